// One row a worker: what it has, what is free, the runs it holds (links), when it last checked
// in, and whatever its owner should act on (Docker down, lost GPUs).
import type { WorkerInfo } from '../../../src/protocol/index.js';
import { formatCreated, formatSize } from '../format.js';
import { Link, paths } from '../router.js';

export function WorkersTable({ workers }: { workers: readonly WorkerInfo[] }) {
  return (
    <div className="table-scroll">
      <table className="workers">
        <caption className="visually-hidden">Workers</caption>
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">Status</th>
            <th scope="col">Tag</th>
            <th scope="col">CPUs free</th>
            <th scope="col">GPUs free</th>
            <th scope="col">Memory</th>
            <th scope="col">Free disk</th>
            <th scope="col">Free slots</th>
            <th scope="col">Runs</th>
            <th scope="col">Last check-in</th>
            <th scope="col">Warnings</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((worker) => (
            <tr key={worker.id} data-worker={worker.id}>
              <th scope="row">
                {worker.id}
                <div className="subtle">{worker.hostname} · {worker.owner_name}</div>
              </th>
              <td className={worker.online ? 'state state-ready' : 'state state-failed'}>{worker.online ? 'online' : 'offline'}</td>
              <td>{worker.tag === null ? '' : `${worker.tag}${worker.tag_exclusive ? ' (exclusive)' : ''}`}</td>
              <td>{worker.cpus - worker.cpus_in_use} / {worker.cpus}</td>
              <td>{worker.gpus - worker.gpus_in_use} / {worker.gpus}</td>
              <td>{formatSize(worker.memory_bytes)}</td>
              <td>{formatSize(worker.free_disk_bytes)}</td>
              <td>{Math.max(0, worker.slots - worker.runs.length)} / {worker.slots}</td>
              <td>
                {worker.runs.map((uuid) => (
                  <div key={uuid}><Link href={paths.bundle(uuid)}>{uuid.slice(0, 10)}</Link></div>
                ))}
              </td>
              <td>{formatCreated(worker.checkin_time)}</td>
              <td className="error">{workerWarnings(worker).join(' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function workerWarnings(worker: WorkerInfo): string[] {
  const warnings: string[] = [];
  if (!worker.docker_ok) warnings.push(`Docker: ${worker.docker_message ?? 'not working'}.`);
  if (worker.warning) warnings.push(worker.warning);
  return warnings;
}
