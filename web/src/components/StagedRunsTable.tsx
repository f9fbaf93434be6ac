// Staged runs and why each waits, in the scheduler's words (null: no pass has looked yet).
import type { StagedRunInfo } from '../../../src/protocol/index.js';
import { formatSize } from '../format.js';
import { Link, paths } from '../router.js';

export function StagedRunsTable({ runs }: { runs: readonly StagedRunInfo[] }) {
  return (
    <div className="table-scroll">
      <table className="staged" aria-labelledby="staged-title">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Owner</th>
            <th scope="col">Queue</th>
            <th scope="col">Asks for</th>
            <th scope="col">Why it waits</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.uuid} data-uuid={run.uuid}>
              <td><Link href={paths.bundle(run.uuid)}>{run.uuid.slice(0, 10)}</Link></td>
              <td>{run.owner_name}</td>
              <td>{run.queue ?? ''}</td>
              <td>
                {run.cpus} CPU, {run.gpus} GPU, {formatSize(run.memory_bytes)} memory, {formatSize(run.disk_bytes)} disk · <code>{run.docker_image}</code>
              </td>
              <td className="reason">{run.waiting_reason ?? 'Not looked at by the scheduler yet: a worker may still take it.'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
