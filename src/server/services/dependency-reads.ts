// Which bundle contents a worker may read: the dependencies (at or below the dependency's path)
// of the runs it holds now. A worker reads nothing else, so a worker credential is no key to
// other bundles. Refusals say no more than a missing bundle would.
import { ApiError, type BundleState } from '../../protocol/index.js';
import type { Store } from '../store/store.js';

/** A run's dependencies are read between its assignment and the start of its command. */
const READING_STATES: readonly BundleState[] = ['starting', 'preparing', 'running'];

export interface WorkerRef {
  readonly owner_id: string;
  readonly id: string;
}

/** Throws `not_found` unless `path` of bundle `uuid` is a dependency of a run `worker` holds now. */
export async function checkDependencyRead(store: Store, worker: WorkerRef, uuid: string, path: string): Promise<void> {
  const runs = await store.listBundlesOfWorker(worker.owner_id, worker.id, READING_STATES);
  const dependencies = await store.getDependencies(runs.map((r) => r.uuid));
  // `..` could climb from the dependency's path to the rest of its bundle: never a dependency read.
  if (path.split('/').includes('..')) throw new ApiError('not_found', `No dependency ${uuid}/${path} of a run this worker holds.`);
  const wanted = normalise(path);
  const allowed = dependencies.some((d) => d.parent_uuid === uuid && isAtOrBelow(wanted, normalise(d.parent_path)));
  if (!allowed) throw new ApiError('not_found', `No dependency ${uuid}/${wanted} of a run this worker holds.`);
}

function normalise(path: string): string {
  return path.split('/').filter((part) => part !== '' && part !== '.').join('/');
}

function isAtOrBelow(path: string, base: string): boolean {
  return base === '' || path === base || path.startsWith(`${base}/`);
}
