// Wakes every request held on this server waiting for the store to change (a run's end above
// all), the moment this server changes it, rather than at the request's next poll. The polls stay
// for what this server does not see change: another server, a state written by the scheduler.
export class ChangeSignal {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves after `ms`, on the next notify(), or on abort, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
