// The workers the user may see (`cl workers`) with their resources, free slots, runs and health,
// and the user's staged runs with the scheduler's reason for each wait (root sees everyone's).
// Reloaded every five seconds: check-ins and scheduling passes change both.
import { routes, StagedRunsResponse, WorkerInfo } from '../../../src/protocol/index.js';
import { z } from 'zod';
import { requestJson } from '../api.js';
import { StagedRunsTable } from '../components/StagedRunsTable.js';
import { WorkersTable } from '../components/WorkersTable.js';
import { useLoad } from '../use-load.js';

const REFRESH_MS = 5000;

async function loadCluster() {
  const [workers, staged] = await Promise.all([requestJson(routes.workersInfo(), z.array(WorkerInfo)), requestJson(routes.stagedRuns(), StagedRunsResponse)]);
  return { workers, staged: staged.runs };
}

export function WorkersPage() {
  const { data, error } = useLoad(loadCluster, [], () => REFRESH_MS);
  if (error && !data) return <p className="error" role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading workers…</p>;
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers</h1>
      {error && <p className="error" role="alert">Could not refresh: {error}</p>}
      {data.workers.length === 0 ? <p>No worker has checked in. Start one with <code>cl-worker</code>.</p> : <WorkersTable workers={data.workers} />}
      <h2 id="staged-title">Staged runs</h2>
      {data.staged.length === 0 ? <p>No run is waiting for a worker.</p> : <StagedRunsTable runs={data.staged} />}
    </section>
  );
}
