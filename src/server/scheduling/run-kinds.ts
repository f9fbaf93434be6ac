// Kinds of run within one matcher pass: runs that agree on the owner (where the owner has workers
// of their own), the queue and the request are placeable on exactly the same workers. Free
// resources only shrink during a pass, so once a run of a kind finds no worker, the rest of its
// kind find none either and wait for the same reason. Pure and pass-local.
import type { StagedRun } from './matcher.js';

export interface RunKind {
  /** Equal for runs with equal requests (CPUs, GPUs, memory, disk): they fit the same members of a worker class. */
  readonly requestId: number;
  /** Why runs of this kind wait, once one of them found no worker. */
  reason: string | undefined;
}

interface Request {
  id: number;
  /** Kinds by owner (null: owners without workers of their own, who all see the same workers), then queue. */
  kinds: Map<string | null, Map<string | null, RunKind>>;
}

/**
 * Looks kinds up by their parts in nested maps rather than by a key string built per run: at ten
 * thousand runs a pass, building and hashing those strings cost more than placing the runs.
 */
export class RunKinds {
  private readonly requests = new Map<number, Map<number, Map<number, Map<number, Request>>>>();
  private nextRequestId = 0;

  /** The kind of `run`; `owner` is its owner where they have private workers, null otherwise. */
  of(run: StagedRun, owner: string | null): RunKind {
    const request = this.request(run);
    const byOwner = request.kinds;
    let byQueue = byOwner.get(owner);
    if (byQueue === undefined) {
      byQueue = new Map();
      byOwner.set(owner, byQueue);
    }
    let kind = byQueue.get(run.queue);
    if (kind === undefined) {
      kind = { requestId: request.id, reason: undefined };
      byQueue.set(run.queue, kind);
    }
    return kind;
  }

  private request(run: StagedRun): Request {
    const r = run.resources;
    const byGpus = child(this.requests, r.cpus);
    const byMemory = child(byGpus, r.gpus);
    const byDisk = child(byMemory, r.memory);
    let request = byDisk.get(r.disk);
    if (request === undefined) {
      request = { id: this.nextRequestId, kinds: new Map() };
      this.nextRequestId += 1;
      byDisk.set(r.disk, request);
    }
    return request;
  }
}

function child<K, V extends Map<unknown, unknown>>(parent: Map<K, V>, key: K): V {
  let map = parent.get(key);
  if (map === undefined) {
    map = new Map() as V;
    parent.set(key, map);
  }
  return map;
}
