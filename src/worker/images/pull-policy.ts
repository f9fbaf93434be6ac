// When the worker pulls a run's image (`--pull-policy`). Its own module so that config parsing
// does not load the image cache.

/** `missing`: pull only an image that is not present. `always`: pull before every run. */
export type PullPolicy = 'missing' | 'always';
export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always'];
