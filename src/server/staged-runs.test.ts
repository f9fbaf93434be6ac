// GET /rest/runs/staged against the real server (loopback HTTP, real SQLite): what worker managers
// read to decide which workers to start. Root sees everyone's runs; a user only their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClient } from '../common/http-client.js';
import { ApiError, Bundle, StagedRunsResponse, User, Worksheet, routes, type StagedRunInfo } from '../protocol/index.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';
import { loggedInClient, startTestServer, type TestServer } from './test-server.js';

let ts: TestServer;
let alice: HttpClient;
let rootRun: Bundle;
let aliceRun: Bundle;

async function createRun(client: HttpClient, metadata: Record<string, unknown>): Promise<Bundle> {
  const home = await client.json(routes.homeWorksheet(), Worksheet);
  return client.json(routes.createBundle(home.uuid), Bundle, { json: { bundle_type: 'run', command: 'true', metadata } });
}

/** The caller's view of `uuid` once the scheduler has given it a waiting reason (no worker is connected). */
async function waitingRun(client: HttpClient, uuid: string, query: Parameters<typeof routes.stagedRuns>[0] = {}): Promise<StagedRunInfo> {
  return waitFor(
    async () => {
      const { runs } = await client.json(routes.stagedRuns(query), StagedRunsResponse);
      const run = runs.find((r) => r.uuid === uuid);
      return run?.waiting_reason ? run : undefined;
    },
    HANG_DEADLINE_MS,
    `run ${uuid} staged with a waiting reason`,
  );
}

beforeAll(async () => {
  ts = await startTestServer();
  await ts.client.json(routes.users(), User, { json: { user_name: 'staged-alice', password: 'staged-alice-password' } });
  alice = await loggedInClient(ts.server.url, 'staged-alice', 'staged-alice-password');
  rootRun = await createRun(ts.client, { name: 'root-run', request_queue: 'tag=gpu', request_gpus: 2, request_cpus: 4, request_memory: 3 * 1024 ** 3 });
  aliceRun = await createRun(alice, { name: 'alice-run' });
});

afterAll(async () => {
  await ts.stop();
});

describe('GET /rest/runs/staged', () => {
  it("gives a run's requests, its queue without tag= and the scheduler's waiting reason", async () => {
    const run = await waitingRun(ts.client, rootRun.uuid);
    expect(run).toMatchObject({ owner_name: 'codalab', queue: 'gpu', cpus: 4, gpus: 2, memory_bytes: 3 * 1024 ** 3 });
    expect(run.waiting_reason).toBe('No worker is connected.');
  });

  it("fills in the server's defaults for what a run does not ask", async () => {
    const run = await waitingRun(alice, aliceRun.uuid);
    expect(run).toMatchObject({ owner_name: 'staged-alice', queue: null, cpus: 1, gpus: 0, memory_bytes: 2 * 1024 ** 3 });
  });

  it('lets root filter by queue and by user', async () => {
    await waitingRun(ts.client, aliceRun.uuid);
    const byQueue = await ts.client.json(routes.stagedRuns({ queue: 'gpu' }), StagedRunsResponse);
    expect(byQueue.runs.map((r) => r.uuid)).toEqual([rootRun.uuid]);
    const byUser = await ts.client.json(routes.stagedRuns({ user: 'staged-alice' }), StagedRunsResponse);
    expect(byUser.runs.map((r) => r.uuid)).toEqual([aliceRun.uuid]);
  });

  it("shows a user only their own runs and refuses another user's", async () => {
    await waitingRun(alice, aliceRun.uuid);
    const own = await alice.json(routes.stagedRuns(), StagedRunsResponse);
    expect(own.runs.map((r) => r.uuid)).toEqual([aliceRun.uuid]);
    const refused = await alice.json(routes.stagedRuns({ user: 'codalab' }), StagedRunsResponse).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('forbidden');
  });

  it('answers an unknown user with not_found', async () => {
    const refused = await ts.client.json(routes.stagedRuns({ user: 'nobody-here' }), StagedRunsResponse).catch((e: unknown) => e);
    expect((refused as ApiError).code).toBe('not_found');
  });
});
