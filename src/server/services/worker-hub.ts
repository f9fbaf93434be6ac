// Wakes long-polling workers the moment something is queued for them, so an assigned run or a
// kill reaches an idle, connected worker without any fixed sleep.
export class WorkerHub {
  private readonly waiters = new Map<string, Set<() => void>>();

  static key(ownerId: string, workerId: string): string {
    return `${ownerId}/${workerId}`;
  }

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /** Resolves when notified, after `timeoutMs`, or when the signal aborts, whichever is first. */
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<() => void>();
      this.waiters.set(key, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every waiter, e.g. at shutdown. */
  notifyAll(): void {
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }
}
