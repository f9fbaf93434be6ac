// Wakes long-polling workers the moment something is queued for them, so an assigned run or a
// kill reaches an idle, connected worker without any fixed sleep.
export class WorkerHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Tells the other servers of the database, where the worker's poll may rest (cluster-bus.ts). */
  private broadcast: (key: string) => void = () => {};

  static key(ownerId: string, workerId: string): string {
    return `${ownerId}/${workerId}`;
  }

  /** Set once this server hears and tells its peers. */
  setBroadcast(broadcast: (key: string) => void): void {
    this.broadcast = broadcast;
  }

  /** Something is queued for the worker: wakes its poll, here or on another server. */
  notify(key: string): void {
    this.wakeLocal(key);
    this.broadcast(key);
  }

  /** Wakes the worker's poll if it rests on this server. */
  wakeLocal(key: string): void {
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
    for (const key of [...this.waiters.keys()]) this.wakeLocal(key);
  }
}
