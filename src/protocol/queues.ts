// Names of queues: a worker's `--tag` and the `--request-queue` a run asks for, which must match
// for the run to go there. One pattern for both, so a queue a run can name is one a worker can serve.

/**
 * CodaLab checks tags with `^[-\w]+$`, so `_` is allowed (its own docs start a worker with
 * `--tag unique_worker_tag`); we keep to ASCII and to 100 characters.
 */
export const WORKER_TAG_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** What WORKER_TAG_PATTERN allows, for refusals: "Invalid --tag 'x': use ...". */
export const WORKER_TAG_RULE = 'use 1 to 100 letters, digits, underscores (_) and hyphens (-)';

/** A run's queue without the optional `tag=` prefix CodaLab's docs write (`--request-queue tag=gpu`). */
export function stripQueuePrefix(queue: string): string {
  return queue.startsWith('tag=') ? queue.slice(4) : queue;
}
