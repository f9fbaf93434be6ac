// Whether the container engine answers, as check-ins report it (docker_ok, docker_message), and
// a way for runs to wait until it does. It logs the change from up to down once, not every try.
import { errorMessage } from '../../common/error-message.js';
import { sleep } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { ContainerRuntime } from './container-runtime.js';

export class DockerHealth {
  ok = true;
  message: string | null = null;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly log: Logger,
    private readonly retrySeconds: number,
  ) {}

  /** Pings the engine and records the answer. */
  async check(): Promise<boolean> {
    try {
      await this.runtime.ping();
      this.markUp();
    } catch (error) {
      this.markDown(error);
    }
    return this.ok;
  }

  markUp(): void {
    if (!this.ok) this.log.info(`Docker at ${this.runtime.address} is reachable again.`);
    this.ok = true;
    this.message = null;
  }

  markDown(error: unknown): void {
    const message = errorMessage(error);
    const text = message.startsWith('Cannot reach Docker') ? message : `Cannot reach Docker at ${this.runtime.address}: ${message}`;
    if (this.ok) this.log.error(`${text}; retrying every ${this.retrySeconds}s`);
    this.ok = false;
    this.message = text;
  }

  /** Resolves once the engine answers; returns false if `signal` aborted first. */
  async waitUntilReachable(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.check()) return true;
      await sleep(this.retrySeconds * 1000, signal);
    }
    return false;
  }
}
