// The worker's main loop: check in (on a timer and whenever a run changes stage), long-poll for
// messages, accept runs and hand each to a RunSupervisor (or take up, after a restart, the runs an
// earlier process left), relay kills, sweep away containers no run owns, and decide when an idle
// or used-up worker exits. It owns the table of runs; it does no file work of its own.
import { statfs } from 'node:fs/promises';
import {
  ApiError,
  PROTOCOL_VERSION,
  type KillMessage,
  type PortMessage,
  type ReadMessage,
  type WriteMessage,
  type RunMessage,
  type WorkerCheckin,
  type WorkerMessage,
} from '../protocol/index.js';
import { errorMessage } from '../common/error-message.js';
import { sleep, type Clock } from '../common/clock.js';
import type { DependencySource } from './deps/dependency-source.js';
import type { ContainerRuntime } from './docker/container-runtime.js';
import { sweepOrphanContainers } from './docker/orphan-sweep.js';
import type { DockerHealth } from './docker/docker-health.js';
import type { Logger } from '../common/log.js';
import { isRetryable, withRetry } from './retry.js';
import type { RunContext, StopMode } from './runs/run-context.js';
import type { RunRecord } from './runs/run-records.js';
import { ResourcePool, type Allocation } from './runs/resource-pool.js';
import { RunSupervisor } from './runs/run-supervisor.js';
import type { GpuInventory } from './gpus/gpu-inventory.js';
import { formatSize } from '../common/sizes.js';
import type { WorkerServerApi } from './server-api.js';
import { servePortRequest } from './reads/run-ports.js';
import { serveLiveRequest, type ReplySender } from './reads/run-reads.js';
import { WakeSignal } from './wake-signal.js';
import type { WorkerConfig } from './config.js';

const MESSAGE_WAIT_SECONDS = 20;
const MAX_SEEN_MESSAGES = 10_000;
const SLOT_RECHECK_MS = 1000;
/** Containers that no run owns are looked for this often (orphan-sweep.ts). */
const SWEEP_MS = 60_000;

export interface AgentParts {
  config: WorkerConfig;
  workerId: string;
  cpuCount: number;
  totalMemoryBytes: number;
  api: WorkerServerApi;
  runtime: ContainerRuntime;
  docker: DockerHealth;
  deps: DependencySource;
  /** Scoped to this worker; the agent adds the run and assignment for lines about one run. */
  log: Logger;
  clock: Clock;
  /** The GPUs this worker offers (re-detected now and then); none when absent. */
  gpus?: GpuInventory;
  /** Everything a RunSupervisor needs except onChange and stopSignal, which the agent supplies. */
  runContext: Omit<RunContext, 'onChange' | 'stopSignal'>;
}

export type AgentExit = 'stopped' | 'idle' | 'runs-done';

interface HeldRun {
  supervisor: RunSupervisor;
  done: Promise<void>;
}

export class WorkerAgent {
  private readonly runs = new Map<string, HeldRun>();
  /** Runs whose start request is in flight: their assignment, and a kill that arrived meanwhile (or null). */
  private readonly starting = new Map<string, { assignmentId: string; kill: string | null }>();
  private readonly seen = new Set<string>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly wake = new WakeSignal();
  private readonly slotFreed = new WakeSignal();
  private readonly runsStop = new AbortController();
  private accepted = 0;
  private checkedIn = false;
  private sweptAt: number | null = null;
  private lastBusy: number;
  private lastCheckinError: string | null = null;

  /** Which cores and GPUs each run holds. */
  private readonly pool: ResourcePool;
  /** Free bytes on the work dir's disk at the last check-in, less the reserve. */
  private freeDiskBytes = Infinity;

  constructor(private readonly parts: AgentParts) {
    this.lastBusy = parts.clock.now();
    const cpus = parts.config.cpuset ?? Array.from({ length: parts.cpuCount }, (_, i) => i);
    this.pool = new ResourcePool(() => cpus, () => parts.gpus?.uuids ?? []);
  }

  /** Runs until `signal` aborts or an exit condition holds; then abandons runs still held. */
  async run(signal: AbortSignal): Promise<AgentExit> {
    const loops = new AbortController();
    const onAbort = (): void => loops.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let exit: AgentExit = 'stopped';
    try {
      await Promise.all([
        this.checkinLoop(loops.signal, (why) => {
          exit = why;
          loops.abort();
        }),
        this.messageLoop(loops.signal),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      const mode: StopMode = this.parts.config.passDownTermination ? 'hand-back' : 'detach';
      if (this.runs.size > 0) {
        this.parts.log.info(
          mode === 'detach'
            ? `Leaving ${this.runs.size} run(s) running; a worker started again on this work dir takes them up.`
            : `Stopping ${this.runs.size} run(s) and giving them back to the server.`,
        );
      }
      this.runsStop.abort(mode);
      await Promise.all([...this.tasks]);
    }
    return exit;
  }

  /** Takes up a run that an earlier process of this worker held (from its record); call before run(). */
  resume(record: RunRecord): void {
    const uuid = record.spec.uuid;
    if (this.runs.has(uuid)) return;
    if (record.allocation) this.pool.claim(uuid, record.allocation);
    this.remember(`${uuid}:${record.assignmentId}`);
    this.startSupervisor(record.spec, record.assignmentId, null, record.allocation, record);
  }

  // ---- check-in -----------------------------------------------------------------------------

  private async checkinLoop(signal: AbortSignal, exit: (why: AgentExit) => void): Promise<void> {
    const periodMs = this.parts.config.checkinFrequencySeconds * 1000;
    while (!signal.aborted) {
      await this.checkinOnce(signal);
      const why = this.exitReason();
      if (why !== null) {
        this.parts.log.info(why === 'idle' ? 'Idle long enough; exiting.' : 'All allowed runs are done; exiting.');
        return exit(why);
      }
      await this.wake.wait(periodMs, signal);
    }
  }

  private async checkinOnce(signal: AbortSignal): Promise<void> {
    await this.parts.docker.check();
    const now = this.parts.clock.now();
    if (this.parts.docker.ok && (this.sweptAt === null || now - this.sweptAt >= SWEEP_MS)) await this.sweepContainers(now);
    try {
      const body = await this.checkinBody();
      const answer = await this.parts.api.checkin(body, signal);
      this.checkedIn = true;
      if (this.lastCheckinError !== null) this.parts.log.info('Checked in with the server again.');
      this.lastCheckinError = null;
      this.warnUnknown(answer.messages.unknown);
      for (const message of answer.messages.messages) this.handle(message, signal);
    } catch (error) {
      if (signal.aborted) return;
      const message = errorMessage(error);
      // Log a failing check-in once per distinct reason, not every few seconds.
      if (message !== this.lastCheckinError) this.parts.log.warn(`Check-in failed: ${message}`);
      this.lastCheckinError = message;
    }
  }

  async checkinBody(): Promise<WorkerCheckin> {
    const { config, cpuCount, totalMemoryBytes } = this.parts;
    const disk = await statfs(config.workDir);
    const limit = config.exitAfterNumRuns;
    // The reserve is the worker's own: runs are refused (and the server told) before it is used.
    this.freeDiskBytes = Math.max(0, Math.floor(disk.bavail * disk.bsize) - config.diskReserveBytes);
    const gpus = this.parts.gpus;
    if (gpus) await gpus.refresh(this.parts.clock.now()).catch((error: unknown) => this.parts.log.warn(`GPU detection failed: ${errorMessage(error)}`));
    return {
      protocol_version: PROTOCOL_VERSION,
      hostname: config.hostname,
      tag: config.tag,
      tag_exclusive: config.tagExclusive && config.tag !== null,
      group: config.group,
      cpus: config.cpuset?.length ?? cpuCount,
      gpus: gpus?.uuids.length ?? 0,
      gpu_uuids: gpus?.uuids ?? [],
      gpu_message: gpus?.problem ?? null,
      memory_bytes: Math.min(config.maxMemoryBytes ?? Infinity, totalMemoryBytes),
      free_disk_bytes: this.freeDiskBytes,
      slots: config.slots,
      runs_left: limit === null ? null : Math.max(0, limit - this.accepted),
      cached_dependencies: this.parts.deps.keys(),
      runs: this.unfinishedRuns().map((r) => r.supervisor.report()),
      pending_runs: [...this.starting].map(([uuid, { assignmentId }]) => ({ uuid, assignment_id: assignmentId })),
      docker_ok: this.parts.docker.ok,
      docker_message: this.parts.docker.message,
      shared_file_system: config.sharedFileSystem,
    };
  }

  private exitReason(): AgentExit | null {
    if (this.runs.size > 0 || this.starting.size > 0) {
      this.lastBusy = this.parts.clock.now();
      return null;
    }
    const { exitAfterNumRuns, exitWhenIdle, idleSeconds } = this.parts.config;
    if (exitAfterNumRuns !== null && this.accepted >= exitAfterNumRuns) return 'runs-done';
    const idleFor = (this.parts.clock.now() - this.lastBusy) / 1000;
    if (exitWhenIdle && this.checkedIn && idleFor >= idleSeconds) return 'idle';
    return null;
  }

  /** Removes containers no run of ours owns (orphan-sweep.ts). Runs an earlier process left were taken up before the first sweep. */
  private async sweepContainers(now: number): Promise<void> {
    try {
      await sweepOrphanContainers({
        runtime: this.parts.runtime,
        runsDir: this.parts.runContext.runsDir,
        workerId: this.parts.workerId,
        owns: (run) => this.runs.has(run) || this.starting.has(run),
        now,
        log: this.parts.log,
      });
      this.sweptAt = now;
    } catch (error) {
      // Tried again at the next check-in; leftovers only waste resources meanwhile.
      this.parts.log.warn(`Could not clean up leftover containers: ${errorMessage(error)}`);
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  private async messageLoop(signal: AbortSignal): Promise<void> {
    let delayMs = 500;
    while (!signal.aborted) {
      try {
        const answer = await this.parts.api.messages(MESSAGE_WAIT_SECONDS, signal);
        delayMs = 500;
        this.warnUnknown(answer.messages.unknown);
        const outcomes = answer.messages.messages.map((message) => this.handle(message, signal));
        // The server re-offers a run that found no free slot at once: wait for one to free up.
        if (outcomes.includes('busy')) await this.slotFreed.wait(SLOT_RECHECK_MS, signal);
      } catch (error) {
        if (signal.aborted) return;
        // Warn once per outage; check-ins already say when the server is unreachable.
        const text = `Could not fetch messages: ${errorMessage(error)}`;
        if (delayMs === 500 || !isRetryable(error)) this.parts.log.warn(text);
        else this.parts.log.debug(text);
        await sleep(delayMs, signal);
        delayMs = Math.min(delayMs * 2, 15_000);
      }
    }
  }

  private warnUnknown(descriptions: readonly string[]): void {
    for (const text of descriptions) {
      this.parts.log.warn(`Ignoring ${text} from the server, which this worker does not understand; upgrade the worker.`);
    }
  }

  /**
   * Handles one message; a message seen before (same run and assignment) is ignored. Returns
   * 'busy' when a run was left for later because every slot is taken: the server offers it again.
   */
  handle(message: WorkerMessage, signal: AbortSignal): 'busy' | undefined {
    if (message.type === 'kill') {
      this.handleKill(message);
      return undefined;
    }
    if (message.type === 'read' || message.type === 'write' || message.type === 'port') {
      this.track(this.serveLive(message, signal));
      return undefined;
    }
    const key = `${message.run.uuid}:${message.assignment_id}`;
    if (this.seen.has(key)) return undefined;
    const { cpus: cpuCount, gpus: gpuCount } = message.run.resources;
    const short = this.runs.has(message.run.uuid) ? null : this.pool.shortage(cpuCount, gpuCount);
    if (short !== null) {
      // Cores or GPUs still held by a run that is ending: the server offers the run again.
      this.runLog(message).debug(`The run waits: ${short}`);
      return 'busy';
    }
    if (this.isBusy() && !this.runs.has(message.run.uuid)) {
      this.runLog(message).debug(`The run waits: all ${this.parts.config.slots} slots are busy`);
      return 'busy';
    }
    this.remember(key);
    const refusal = this.refusal(message);
    if (refusal !== null) {
      this.runLog(message).warn(`Not taking the run: ${refusal}`);
      return undefined;
    }
    this.track(this.accept(message, signal));
    return undefined;
  }

  private refusal(message: RunMessage): string | null {
    const uuid = message.run.uuid;
    if (this.runs.has(uuid) || this.starting.has(uuid)) return 'this worker already holds it';
    const limit = this.parts.config.exitAfterNumRuns;
    if (limit !== null && this.accepted >= limit) return `--exit-after-num-runs ${limit} reached`;
    if (this.isBusy()) return `all ${this.parts.config.slots} slots are busy`;
    const disk = message.run.resources.disk;
    if (this.freeDiskBytes <= 0 || disk > this.freeDiskBytes) {
      const reserve = formatSize(this.parts.config.diskReserveBytes);
      return `the work dir has ${formatSize(this.freeDiskBytes)} free beyond its ${reserve} reserve${disk > 0 ? `; the run asks for ${formatSize(disk)}` : ''}`;
    }
    return null;
  }

  /** Runs still in progress; a finished run keeps no slot while its container and files are removed. */
  private unfinishedRuns(): HeldRun[] {
    return [...this.runs.values()].filter((r) => !r.supervisor.isFinished);
  }

  private isBusy(): boolean {
    return this.unfinishedRuns().length + this.starting.size >= this.parts.config.slots;
  }

  private handleKill(message: KillMessage): void {
    const held = this.runs.get(message.uuid);
    if (held && held.supervisor.assignmentId === message.assignment_id) {
      this.parts.log.child({ run: message.uuid, assignment: message.assignment_id }).info('Kill requested');
      held.supervisor.kill(message.message);
    } else {
      const starting = this.starting.get(message.uuid);
      if (starting && starting.assignmentId === message.assignment_id) starting.kill = message.message || 'Kill requested';
    }
  }

  /** A read, write or port request about a run we hold, relayed by the server; answered on its own task. */
  private async serveLive(message: ReadMessage | WriteMessage | PortMessage, signal: AbortSignal): Promise<void> {
    const held = this.runs.get(message.uuid);
    // A finished run's files are being deleted; the server reads them from its store instead.
    const isOurs = held !== undefined && held.supervisor.assignmentId === message.assignment_id && !held.supervisor.isFinished;
    const run = isOurs ? held.supervisor.liveRun() : null;
    try {
      const send: ReplySender = (id, header, body) => this.parts.api.reply(id, header, body, signal);
      await (message.type === 'port' ? servePortRequest(run, message, send, signal) : serveLiveRequest(run, message, send, signal));
    } catch (error) {
      // Safe to only log: the server answers the waiting client with a timeout or a cut stream.
      if (!signal.aborted) {
        this.parts.log
          .child({ run: message.uuid, assignment: message.assignment_id })
          .debug(`Could not answer a ${message.type} request: ${errorMessage(error)}`);
      }
    }
  }

  private async accept(message: RunMessage, signal: AbortSignal): Promise<void> {
    const { run, assignment_id: assignmentId } = message;
    const log = this.runLog(message);
    this.starting.set(run.uuid, { assignmentId, kill: null });
    // Taken before the first await, so two runs arriving together cannot both count the same cores.
    const allocation = this.pool.allocate(run.uuid, run.resources.cpus, run.resources.gpus);
    let started = false;
    try {
      const answer = await withRetry(
        () => this.parts.api.startRun(run.uuid, { assignment_id: assignmentId, hostname: this.parts.config.hostname }, signal),
        { log, what: 'start the run', signal, maxAttempts: 5 },
      );
      if (!answer.accepted) {
        log.info(`The server withdrew the run (${answer.reason ?? 'no longer assigned here'}).`);
        return;
      }
      this.startSupervisor(run, assignmentId, this.starting.get(run.uuid)?.kill ?? null, allocation);
      started = true;
    } catch (error) {
      const why = error instanceof ApiError ? error.message : errorMessage(error);
      if (!signal.aborted) log.warn(`Could not start the run: ${why}`);
    } finally {
      this.starting.delete(run.uuid);
      if (!started) this.pool.release(run.uuid);
    }
  }

  /** The worker's logger, scoped to the run a message offers. */
  private runLog(message: RunMessage): Logger {
    return this.parts.log.child({ run: message.run.uuid, assignment: message.assignment_id });
  }

  private startSupervisor(
    spec: RunMessage['run'],
    assignmentId: string,
    pendingKill: string | null,
    allocation: Allocation | null,
    resumed: RunRecord | null = null,
  ): void {
    const supervisor = new RunSupervisor(
      { ...this.parts.runContext, stopSignal: this.runsStop.signal, onChange: () => {
          this.wake.notify();
          this.slotFreed.notify();
        } },
      spec,
      assignmentId,
      allocation,
      resumed,
    );
    this.accepted += 1;
    if (!resumed) this.parts.log.child({ run: spec.uuid, assignment: assignmentId }).info(`Accepted the run: ${spec.command.slice(0, 200)}`);
    const done = supervisor.run().finally(() => {
      this.runs.delete(spec.uuid);
      this.pool.release(spec.uuid);
      this.lastBusy = this.parts.clock.now();
      this.wake.notify();
      this.slotFreed.notify();
    });
    this.runs.set(spec.uuid, { supervisor, done });
    this.track(done);
    if (pendingKill !== null) supervisor.kill(pendingKill);
    this.wake.notify();
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > MAX_SEEN_MESSAGES) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
