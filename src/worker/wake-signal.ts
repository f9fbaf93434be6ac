// Lets any part of the worker ask a waiting loop to go round again now ("a run changed stage,
// check in"), coalescing many requests into one. No timers of its own beyond the wait given.

export class WakeSignal {
  private pending = false;
  private wakeUp: (() => void) | null = null;

  notify(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  /** Resolves after `ms`, on notify() (including one that came before the call), or on abort. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = null;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
}
