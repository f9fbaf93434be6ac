// ContainerRuntime on the Docker Engine API (dockerode over the unix socket). The only module
// that knows Docker's request shapes and error codes; it maps every failure to a RuntimeError
// and never shells out to the docker CLI.
import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { readCgroupStats } from './cgroup-stats.js';
import { earlyExit, readExitReport, type ExitReading } from './exit-reading.js';
import {
  RuntimeError,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerStats,
  type ImageInfo,
  type ImageRemoval,
  type LabelledContainer,
  type PullEvent,
  RUN_NETWORK,
} from './container-runtime.js';

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'EPIPE', 'ETIMEDOUT']);

export class DockerRuntime implements ContainerRuntime {
  readonly address: string;
  private readonly docker: Docker;
  /** The network runs with a network join, settled at the first such run (see networkOfRuns). */
  private runNetwork: Promise<string> | null = null;
  /** The exit report of each container this runtime started, read from its stdout until it closes (see exit-report.ts). */
  private readonly exitReports = new Map<string, ExitReading>();

  /**
   * `runNetwork`: the network of runs with a network. Any name but RUN_NETWORK must exist. RUN_NETWORK
   * means "one on which runs cannot reach each other": see networkOfRuns.
   */
  constructor(
    socketPath: string,
    private readonly runNetworkName = RUN_NETWORK,
    /** The network that serves as RUN_NETWORK when it isolates its containers: the engine's default bridge (tests name others). */
    private readonly defaultBridge = 'bridge',
  ) {
    this.address = socketPath;
    this.docker = new Docker({ socketPath });
  }

  async ping(): Promise<void> {
    await this.call('ping Docker', () => this.docker.ping());
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
      const name = repositoryOf(ref);
      // An image pulled under several names has a digest for each: the one of the name asked for.
      const digests = info.RepoDigests ?? [];
      const digest = digests.find((d) => d.startsWith(`${name}@`)) ?? digests[0] ?? `${ref.replace(/@.*$/, '')}@${info.Id}`;
      return { id: info.Id, digest, ...(typeof info.Size === 'number' ? { sizeBytes: info.Size } : {}) };
    } catch (error) {
      if (error instanceof RuntimeError && error.kind === 'not_found') return null;
      throw error;
    }
  }

  async pullImage(ref: string, signal?: AbortSignal, onProgress?: (event: PullEvent) => void): Promise<void> {
    const stream = await this.call(`pull ${ref}`, () => this.docker.pull(ref, signal ? { abortSignal: signal } : {}));
    await new Promise<void>((resolve, reject) => {
      const done = (error: Error | null, events: unknown[]): void => {
        const failure = error?.message ?? events.map(eventError).find((m) => m !== null);
        if (failure) reject(new RuntimeError('failed', failure, { cause: error }));
        else resolve();
      };
      this.docker.modem.followProgress(stream, done, (event: unknown) => onProgress?.(toPullEvent(event)));
    });
  }

  async removeImage(id: string): Promise<ImageRemoval> {
    try {
      await this.call(`remove image ${id}`, () => this.docker.getImage(id).remove({ force: false, noprune: false }));
      return { outcome: 'removed' };
    } catch (error) {
      if (error instanceof RuntimeError && error.kind === 'not_found') return { outcome: 'gone' };
      // 409: a container uses it, or other names point at it. Never forced: it is not ours to take.
      if (error instanceof RuntimeError && statusOf(error.cause) === 409) return { outcome: 'in_use', reason: engineReason(error.cause) };
      throw error;
    }
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const options = toCreateOptions(spec, spec.network ? await this.networkOfRuns() : 'none');
    const container = await this.call(`create container ${spec.name}`, () => this.docker.createContainer(options));
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    // Attached before the start (~2 ms), so that even a command that ends at once is heard ending.
    const reading = await readExitReport(container);
    if (reading !== null) this.exitReports.set(id, reading);
    try {
      await this.call(`start container ${id}`, () => container.start());
    } catch (error) {
      this.dropExitReport(id);
      throw error;
    }
  }

  /**
   * The engine's exit, or, when the container's command printed an exit report with a status
   * below 128 and no OOM kill, that report as soon as the container's stdout closes (every
   * process in it has ended). A status of 128 or more (a signal: a kill, a stop, an OOM kill of
   * the shell) and any OOM kill are left to the engine, which says what it saw.
   */
  async waitContainer(id: string, signal?: AbortSignal, acceptEarly: () => boolean = () => true): Promise<ContainerExit> {
    const report = this.exitReports.get(id)?.report;
    if (report === undefined) return this.waitForEngine(id, signal);
    const engineWait = new AbortController();
    const engine = this.waitForEngine(id, signal ? AbortSignal.any([signal, engineWait.signal]) : engineWait.signal);
    engine.catch(() => {}); // an early exit abandons it
    const early = report.then((r) => (r !== null && acceptEarly() ? earlyExit(r) : null)).then((exit) => exit ?? engine);
    try {
      // The engine answers first when the report never comes (a stream that hangs).
      return await Promise.race([engine, early]);
    } finally {
      engineWait.abort();
      this.dropExitReport(id);
    }
  }

  private async waitForEngine(id: string, signal?: AbortSignal): Promise<ContainerExit> {
    const container = this.docker.getContainer(id);
    await this.call(`wait for container ${id}`, () =>
      container.wait({ condition: 'not-running', ...(signal ? { abortSignal: signal } : {}) }),
    );
    const info = await this.call(`inspect container ${id}`, () => container.inspect());
    const started = Date.parse(info.State.StartedAt);
    const finished = Date.parse(info.State.FinishedAt);
    // The OOMKilled flag can miss the kill of a child whose shell survived (engine and cgroup
    // versions differ); the kernel's oom event, which the engine logs, does not.
    const oomEvent = info.State.OOMKilled ? false : await this.sawOomEvent(id, started).catch(() => false);
    return {
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled || oomEvent,
      ranSeconds: started > 0 && finished >= started ? (finished - started) / 1000 : null,
    };
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.call(`stop container ${id}`, () => this.docker.getContainer(id).stop({ t: Math.ceil(graceSeconds) }));
    } catch (error) {
      // 304 (already stopped) and 404 (already gone) both mean there is nothing left to stop.
      if (!(error instanceof RuntimeError && (error.kind === 'not_found' || statusOf(error.cause) === 304))) throw error;
    }
  }

  async removeContainer(id: string): Promise<void> {
    this.dropExitReport(id);
    try {
      await this.call(`remove container ${id}`, () => this.docker.getContainer(id).remove({ force: true, v: true }));
    } catch (error) {
      // 404: already gone; 409: a removal is already in progress. Either way it is going.
      if (!(error instanceof RuntimeError && (error.kind === 'not_found' || statusOf(error.cause) === 409))) throw error;
    }
  }

  async listContainers(labels: Record<string, string>): Promise<LabelledContainer[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.call('list containers', () =>
      this.docker.listContainers({ all: true, filters: JSON.stringify(filters) }),
    );
    return list.map((c) => ({
      id: c.Id,
      labels: c.Labels,
      running: c.State === 'running',
      neverStarted: c.State === 'created',
      createdAt: c.Created * 1000,
    }));
  }

  readStats(id: string): Promise<ContainerStats | null> {
    return readCgroupStats(id);
  }

  async readMemoryPeak(id: string): Promise<number | null> {
    const candidates = [
      `/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`,
      `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.peak`,
      `/sys/fs/cgroup/docker/${id}/memory.peak`,
    ];
    for (const file of candidates) {
      const text = await readFile(file, 'utf8').catch(() => null);
      const value = text === null ? NaN : Number(text.trim());
      if (Number.isFinite(value)) return value;
    }
    return null;
  }

  async readWritableLayerSize(id: string): Promise<number | null> {
    // `size` is an Engine API option that @types/dockerode does not list; SizeRw takes ~3 ms.
    const options = { size: true } as unknown as Docker.ContainerInspectOptions;
    const info = await this.call(`inspect container ${id}`, () => this.docker.getContainer(id).inspect(options));
    const size = (info as { SizeRw?: unknown }).SizeRw;
    return typeof size === 'number' ? size : null;
  }

  /** Follows the engine's `oom` events for the container, from its start on (past events included). */
  async containerAddress(id: string): Promise<string | null> {
    const info = await this.call(`inspect container ${id}`, () => this.docker.getContainer(id).inspect());
    const networks = Object.values(info.NetworkSettings.Networks ?? {});
    return networks.map((n) => n.IPAddress).find((ip) => typeof ip === 'string' && ip !== '') ?? null;
  }

  /**
   * The network of runs with a network, settled once. A name given by the operator is used as it
   * is. By default runs must not reach each other: the engine's default bridge does that when the
   * engine runs with inter-container traffic off (dockerd --icc=false), and costs nothing more;
   * otherwise the worker makes RUN_NETWORK, a bridge of its own with that traffic off. Docker gives a
   * network it did not make itself an embedded DNS server, set up in each container as it starts:
   * about 0.1 s of every run's start on a two-core machine.
   */
  private networkOfRuns(): Promise<string> {
    this.runNetwork ??= this.chooseRunNetwork().catch((error: unknown) => {
      this.runNetwork = null; // try again with the next run
      throw error;
    });
    return this.runNetwork;
  }

  private async chooseRunNetwork(): Promise<string> {
    if (this.runNetworkName !== RUN_NETWORK) return this.runNetworkName;
    const bridge = await this.call(`inspect network ${this.defaultBridge}`, () => this.docker.getNetwork(this.defaultBridge).inspect()).catch(() => null);
    if (isolatesContainers(bridge)) return this.defaultBridge;
    await this.createRunNetwork();
    return RUN_NETWORK;
  }

  /** Creates RUN_NETWORK if it is missing; another worker creating it meanwhile is fine. */
  private async createRunNetwork(): Promise<void> {
    try {
      await this.call(`create network ${RUN_NETWORK}`, () =>
        this.docker.createNetwork({
          Name: RUN_NETWORK,
          Driver: 'bridge',
          CheckDuplicate: true,
          Options: { 'com.docker.network.bridge.enable_icc': 'false' },
          Labels: { 'org.codalab.network': 'runs' },
        }),
      );
    } catch (error) {
      // 409: it exists already (made by an earlier start, or by another worker on this engine).
      if (!(error instanceof RuntimeError && statusOf(error.cause) === 409)) throw error;
    }
  }

  /**
   * Whether the engine logged an oom event for the container since it started: asked once it has
   * exited, for a window that ends now, so the answer is complete and comes at once (a stream
   * opened before the wait cost up to a second of the user's time on a busy engine).
   */
  private async sawOomEvent(id: string, startedAt: number): Promise<boolean> {
    const since = startedAt > 0 ? Math.floor(startedAt / 1000) - 1 : Math.floor(Date.now() / 1000) - 3600;
    const until = Math.floor(Date.now()) / 1000;
    const stream = (await this.docker.getEvents({ since, until, filters: { container: [id], event: ['oom'] } })) as NodeJS.ReadableStream;
    let seen = false;
    for await (const chunk of stream) if (chunk.toString().includes('"oom"')) seen = true;
    return seen;
  }

  /** Stops reading the container's exit report (a wait that ended, a container removed). */
  private dropExitReport(id: string): void {
    this.exitReports.get(id)?.stop();
    this.exitReports.delete(id);
  }

  /** Runs one API call and turns its failure into a RuntimeError that says what was tried. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toRuntimeError(what, this.address, error);
    }
  }
}

/** Capabilities a normal program needs (file ownership, signals, low ports); everything else is dropped. */
export const CONTAINER_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

/** The Engine API body that creates `spec`'s container: limits, hardening, GPUs by device request. */
/** `network`: the Docker network of the container, 'none' for a run without one. */
export function toCreateOptions(spec: ContainerSpec, network: string): Docker.ContainerCreateOptions {
  const [entrypoint, ...args] = spec.command;
  const gpus = spec.gpus ?? [];
  return {
    name: spec.name,
    Image: spec.image,
    Entrypoint: entrypoint === undefined ? [] : [entrypoint],
    Cmd: args,
    WorkingDir: spec.workingDir,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    User: spec.user,
    Labels: spec.labels,
    Tty: false,
    AttachStdin: false,
    OpenStdin: false,
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      Memory: spec.memoryBytes,
      // Swap equal to memory: no swap beyond the limit, so the limit means what it says.
      MemorySwap: spec.memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      ...(spec.cpuset.length > 0 ? { CpusetCpus: spec.cpuset.join(',') } : {}),
      ...(gpus.length > 0 ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: [...gpus], Capabilities: [['gpu']] }] } : {}),
      ...(spec.shmBytes !== undefined ? { ShmSize: spec.shmBytes } : {}),
      ...(spec.pidsLimit !== undefined ? { PidsLimit: spec.pidsLimit } : {}),
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      CapAdd: CONTAINER_CAPABILITIES,
      NetworkMode: network,
      Init: true,
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': `${Math.max(1, Math.ceil(spec.logMaxBytes / 1024))}k`, 'max-file': '1' } },
    },
  };
}

/** Whether an inspected bridge network keeps its containers from reaching each other. */
export function isolatesContainers(network: { Driver?: string; Options?: Record<string, string> | null } | null): boolean {
  return network?.Driver === 'bridge' && network.Options?.['com.docker.network.bridge.enable_icc'] === 'false';
}

/** `host:5000/name:tag` or `name@sha256:…` without its tag or digest. */
function repositoryOf(ref: string): string {
  const bare = ref.replace(/@.*$/, '');
  const slash = bare.lastIndexOf('/');
  const colon = bare.lastIndexOf(':');
  return colon > slash ? bare.slice(0, colon) : bare;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function toRuntimeError(what: string, address: string, error: unknown): RuntimeError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new RuntimeError('unreachable', `Cannot reach Docker at ${address}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const status = statusOf(error);
  const reason = engineReason(error);
  return new RuntimeError(status === 404 ? 'not_found' : 'failed', `Could not ${what}: ${reason}`, { cause: error });
}

/** The engine's own message (`{"message": ...}` in the body) rather than dockerode's wrapper. */
function engineReason(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  return error instanceof Error ? error.message : String(error);
}

function eventError(event: unknown): string | null {
  if (!event || typeof event !== 'object') return null;
  const e = event as { error?: unknown; errorDetail?: { message?: unknown } };
  if (typeof e.errorDetail?.message === 'string') return e.errorDetail.message;
  return typeof e.error === 'string' ? e.error : null;
}

/** Narrows an engine pull event ({id, status, progressDetail: {current, total}}) to a PullEvent. */
function toPullEvent(event: unknown): PullEvent {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const detail = (typeof e.progressDetail === 'object' && e.progressDetail !== null ? e.progressDetail : {}) as Record<string, unknown>;
  const out: PullEvent = {};
  if (typeof e.id === 'string') out.id = e.id;
  if (typeof e.status === 'string') out.status = e.status;
  if (typeof detail.current === 'number') out.current = detail.current;
  if (typeof detail.total === 'number') out.total = detail.total;
  return out;
}
