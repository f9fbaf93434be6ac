// ContainerRuntime on the Docker Engine API (dockerode over the unix socket). The only module
// that knows Docker's request shapes and error codes; it maps every failure to a RuntimeError
// and never shells out to the docker CLI.
import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import {
  RuntimeError,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type ImageInfo,
  type LabelledContainer,
} from './container-runtime.js';

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'EPIPE', 'ETIMEDOUT']);

export class DockerRuntime implements ContainerRuntime {
  readonly address: string;
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.address = socketPath;
    this.docker = new Docker({ socketPath });
  }

  async ping(): Promise<void> {
    await this.call('ping Docker', () => this.docker.ping());
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
      return { id: info.Id, digest: info.RepoDigests?.[0] ?? `${ref.replace(/@.*$/, '')}@${info.Id}` };
    } catch (error) {
      if (error instanceof RuntimeError && error.kind === 'not_found') return null;
      throw error;
    }
  }

  async pullImage(ref: string, signal?: AbortSignal): Promise<void> {
    const stream = await this.call(`pull ${ref}`, () => this.docker.pull(ref, signal ? { abortSignal: signal } : {}));
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (error: Error | null, events: unknown[]) => {
        const failure = error?.message ?? events.map(eventError).find((m) => m !== null);
        if (failure) reject(new RuntimeError('failed', failure, { cause: error }));
        else resolve();
      });
    });
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const [entrypoint, ...args] = spec.command;
    const container = await this.call(`create container ${spec.name}`, () =>
      this.docker.createContainer({
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
          MemorySwap: spec.memoryBytes,
          NanoCpus: Math.round(spec.cpus * 1e9),
          ...(spec.cpuset.length > 0 ? { CpusetCpus: spec.cpuset.join(',') } : {}),
          NetworkMode: spec.network ? 'bridge' : 'none',
          Init: true,
          AutoRemove: false,
          LogConfig: { Type: 'json-file', Config: { 'max-size': `${Math.max(1, Math.ceil(spec.logMaxBytes / 1024))}k`, 'max-file': '1' } },
        },
      }),
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call(`start container ${id}`, () => this.docker.getContainer(id).start());
  }

  async waitContainer(id: string, signal?: AbortSignal): Promise<ContainerExit> {
    const container = this.docker.getContainer(id);
    await this.call(`wait for container ${id}`, () =>
      container.wait({ condition: 'not-running', ...(signal ? { abortSignal: signal } : {}) }),
    );
    const info = await this.call(`inspect container ${id}`, () => container.inspect());
    const started = Date.parse(info.State.StartedAt);
    const finished = Date.parse(info.State.FinishedAt);
    return {
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
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
    return list.map((c) => ({ id: c.Id, labels: c.Labels, running: c.State === 'running' }));
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

  /** Runs one API call and turns its failure into a RuntimeError that says what was tried. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toRuntimeError(what, this.address, error);
    }
  }
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
