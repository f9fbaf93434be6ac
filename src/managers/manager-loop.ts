// The worker manager's loop: every --sleep-time, read the backend's jobs and the server's staged
// runs and online workers, let decideWorkers choose, and carry the choice out. Finished jobs are
// removed (counted gone). Network and API errors are logged and the next round tries again; only
// a refused login stops the manager, since retrying it cannot help.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { sleep } from '../common/clock.js';
import type { Credentials } from '../common/credentials.js';
import { errorMessage } from '../common/error-message.js';
import { formatSize } from '../common/sizes.js';
import type { Logger } from '../common/log.js';
import { ApiError, type StagedRunInfo } from '../protocol/index.js';
import { decideWorkers, type ManagedWorker, type ScalingDecision, type ScalingPolicy } from './decide-workers.js';
import { workerArgs, type WorkerArgsOptions } from './worker-args.js';
import type { BackendJob, WorkerBackend } from './worker-backend.js';

/** What the loop asks of the server (ManagerServerClient). */
export interface ManagerServer {
  stagedRuns(queue: string | null): Promise<StagedRunInfo[]>;
  onlineWorkerIds(): Promise<Set<string>>;
}

export interface ManagerLoopOptions {
  /** Prefix of worker ids, and the name backends label jobs with. */
  name: string;
  policy: ScalingPolicy;
  workerArgs: WorkerArgsOptions;
  credentials: Credentials;
  sleepSeconds: number;
}

/** A new worker id: the manager's name and 8 hex digits (valid as a Kubernetes or Slurm job name too). */
export function newWorkerId(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

export class WorkerManagerLoop {
  private lastHeldBack: string | null = null;

  constructor(
    private readonly server: ManagerServer,
    private readonly backend: WorkerBackend,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: ManagerLoopOptions,
  ) {}

  /** Rounds until `signal` aborts; rejects only on a refused login. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.round();
      } catch (error) {
        if (error instanceof ApiError && error.code === 'unauthorized') throw error;
        this.log.warn(`round failed, trying again in ${this.options.sleepSeconds} s: ${errorMessage(error)}`);
      }
      await sleep(this.options.sleepSeconds * 1000, signal);
    }
  }

  /** One round: returns what was decided (for tests and the log). */
  async round(): Promise<ScalingDecision> {
    const live = await this.removeFinished(await this.backend.listJobs());
    const online = await this.server.onlineWorkerIds();
    const workers: ManagedWorker[] = live.map((job) => ({
      id: job.id,
      phase: job.state === 'running' && online.has(job.id) ? 'alive' : 'pending',
      startedAt: job.createdAt,
    }));
    const runs = await this.server.stagedRuns(this.options.policy.queue);
    const decision = decideWorkers(runs, workers, this.options.policy, this.clock.now());
    await this.carryOut(decision);
    return decision;
  }

  private async removeFinished(jobs: BackendJob[]): Promise<BackendJob[]> {
    for (const job of jobs.filter((j) => j.state === 'finished')) {
      this.log.info(`worker ended${job.detail ? ` (${job.detail})` : ''}; removing its job`, { worker: job.id });
      await this.backend.removeJob(job.id);
    }
    return jobs.filter((j) => j.state !== 'finished');
  }

  private async carryOut(decision: ScalingDecision): Promise<void> {
    for (const { id, reason } of decision.remove) {
      this.log.warn(`giving up on the worker: it ${reason}`, { worker: id });
      await this.backend.removeJob(id);
    }
    for (const { uuid, reason } of decision.unservable) {
      this.log.debug(`not starting a worker for the run: ${reason}`, { run: uuid });
    }
    if (decision.heldBack !== this.lastHeldBack && decision.heldBack !== null) this.log.info(decision.heldBack);
    this.lastHeldBack = decision.heldBack;
    for (const start of decision.start) {
      const id = newWorkerId(this.options.name);
      const s = start.shape;
      this.log.info(`starting a worker (${s.cpus} CPUs, ${s.gpus} GPUs, ${formatSize(s.memoryBytes)} memory) for ${start.reason}`, { worker: id });
      await this.backend.startJob({ id, shape: s, args: workerArgs(id, start, this.options.workerArgs), credentials: this.options.credentials });
    }
  }
}
