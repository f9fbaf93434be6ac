// Starting a worker from a frozen config, for `cl-worker` and for a server that embeds one
// (`cl-server --with-worker`). It wires the parts together and logs in; it reads no environment.
import { mkdir, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkerAgent, type AgentExit } from './agent.js';
import { errorMessage } from '../common/error-message.js';
import { systemClock, type Clock } from '../common/clock.js';
import type { WorkerConfig } from './config.js';
import { formatSize } from '../common/sizes.js';
import { DependencyCache } from './deps/dependency-cache.js';
import { resolveCacheCap } from './deps/default-cache-cap.js';
import { SharedStoreDependencies } from './deps/shared-store.js';
import type { ContainerRuntime } from './docker/container-runtime.js';
import { DockerHealth } from './docker/docker-health.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { removeTree } from './fs/tree.js';
import { detectGpus } from './gpus/gpu-discovery.js';
import { GpuInventory } from './gpus/gpu-inventory.js';
import { ImageCache } from './images/image-cache.js';
import { createLogger, type Logger } from '../common/log.js';
import { withRetry } from './retry.js';
import { RunRecords, type RunRecord } from './runs/run-records.js';
import { WorkerServerApi } from './server-api.js';
import { resolveWorkerId } from './worker-id.js';

export type { WorkerConfig } from './config.js';
export { createWorkerConfig } from './config.js';
export type { Logger } from '../common/log.js';

export interface StartWorkerDeps {
  log?: Logger;
  /** Defaults to Docker on `config.dockerSocket`. */
  runtime?: ContainerRuntime;
  clock?: Clock;
  /** Aborting it before startWorker resolves gives up logging in (startWorker then rejects). */
  signal?: AbortSignal;
}

export interface RunningWorker {
  readonly id: string;
  /**
   * Stops the worker. Runs still held keep running and are taken up again by the next worker
   * started on this work dir; with --pass-down-termination they are stopped and given back.
   */
  stop(): Promise<void>;
  /** Settles when the worker has ended, by stop() or on its own (--exit-when-idle, --exit-after-num-runs). */
  readonly done: Promise<AgentExit>;
}

const MONITOR_SECONDS = 5;
/** GPUs are detected again this often, so ones that vanish stop being offered (and get flagged). */
const GPU_REFRESH_MS = 60_000;

export async function startWorker(config: WorkerConfig, deps: StartWorkerDeps = {}): Promise<RunningWorker> {
  const clock = deps.clock ?? systemClock;
  const runtime = deps.runtime ?? new DockerRuntime(config.dockerSocket, config.runNetwork);
  const runsDir = path.join(config.workDir, 'runs');
  await mkdir(runsDir, { recursive: true });
  const workerId = await resolveWorkerId(config.workDir, config.hostname, config.id);
  // Every line of this worker, and of its runs, names it.
  const root = deps.log ?? createLogger({ program: 'cl-worker', verbose: config.verbose, format: config.logFormat });
  const log = root.child({ worker: workerId });
  const records = new RunRecords(path.join(config.workDir, 'run-records'), log);
  const held = await records.loadAll();
  await removeLeftoverRunDirs(runsDir, new Set(held.map((r) => r.spec.uuid)), log);
  const stop = new AbortController();
  deps.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  const api = new WorkerServerApi({ serverUrl: config.serverUrl, username: config.username, password: config.password, workerId });
  const cacheCap = await resolveCacheCap(config.maxWorkDirSizeBytes, config.workDir);
  log.info(`Dependency cache: up to ${formatSize(cacheCap.bytes)} (${cacheCap.origin}), keeping ${formatSize(config.diskReserveBytes)} of disk free (--disk-reserve)`);
  const dependencyCache = new DependencyCache({
    dir: path.join(config.workDir, 'dependencies'),
    fetchBlob: (uuid, subPath, signal) => api.downloadBlob(uuid, subPath, signal),
    maxBytes: cacheCap.bytes,
    reserveBytes: config.diskReserveBytes,
    log,
    clock,
    signal: stop.signal,
  });
  await dependencyCache.init();
  const dependencies = config.sharedFileSystem ? new SharedStoreDependencies(dependencyCache, log) : dependencyCache;
  const retrySeconds = Math.min(config.checkinFrequencySeconds, 5);
  const docker = new DockerHealth(runtime, log, retrySeconds);
  await docker.check();
  await login(api, config, log, stop.signal);
  log.info(`Worker connected to ${config.serverUrl} (work dir ${config.workDir})`);
  const gpus = new GpuInventory(() => detectGpus(), config.gpuset, GPU_REFRESH_MS);
  await gpus.init(clock.now());
  if (gpus.problem) log.warn(`No GPUs offered: ${gpus.problem}`);
  else if (gpus.gpus.length > 0) log.info(`GPUs offered: ${gpus.gpus.map((g) => `${g.index} ${g.uuid} (${g.name}, ${g.memory})`).join('; ')}`);
  const isRoot = process.getuid?.() === 0;
  const agent = new WorkerAgent({
    config,
    workerId,
    cpuCount: os.cpus().length,
    totalMemoryBytes: os.totalmem(),
    api,
    runtime,
    docker,
    deps: dependencies,
    log,
    clock,
    gpus,
    runContext: {
      workerId,
      hostname: config.hostname,
      runsDir,
      chownTo: isRoot ? { uid: 65534, gid: 65534 } : null,
      containerUser: isRoot ? '65534:65534' : `${process.getuid?.() ?? 65534}:${process.getgid?.() ?? 65534}`,
      cpuset: config.cpuset ?? [],
      shmBytes: config.sharedMemoryBytes,
      pidsLimit: config.pidsLimit,
      killGraceSeconds: config.killGraceSeconds,
      diskReserveBytes: config.diskReserveBytes,
      monitorSeconds: MONITOR_SECONDS,
      dockerRetrySeconds: retrySeconds,
      server: api,
      runtime,
      docker,
      images: new ImageCache({
        runtime,
        pullPolicy: config.pullPolicy,
        maxBytes: config.maxImageCacheSizeBytes,
        recordFile: path.join(config.workDir, 'pulled-images.json'),
        clock,
        log,
      }),
      deps: dependencies,
      records,
      log,
      clock,
    },
  });
  resumeRuns(agent, held, log);
  const done = agent.run(stop.signal).finally(async () => {
    stop.abort();
    await records.flush();
  });
  return {
    id: workerId,
    done,
    stop: async () => {
      stop.abort();
      await done.catch(() => undefined);
    },
  };
}

async function login(api: WorkerServerApi, config: WorkerConfig, log: Logger, signal: AbortSignal): Promise<void> {
  try {
    await withRetry(() => api.login(signal), { log, what: `log in to ${config.serverUrl}`, signal, maxDelayMs: 10_000 });
  } catch (error) {
    throw new Error(`Cannot log in to ${config.serverUrl} as ${config.username}: ${errorMessage(error)}`, { cause: error });
  }
}

/** Runs an earlier process held on this work dir; under another --id too, as the server knows them by assignment. */
function resumeRuns(agent: WorkerAgent, records: readonly RunRecord[], log: Logger): void {
  if (records.length === 0) return;
  log.info(`Taking up ${records.length} run(s) that an earlier process of this worker held`);
  for (const record of records) agent.resume(record);
}

/**
 * Run dirs of an earlier process that no run record names: a run's record is written before its
 * dir is made, so these belong to runs that ended (their clean-up cut short) and are only clutter.
 */
async function removeLeftoverRunDirs(runsDir: string, keep: ReadonlySet<string>, log: Logger): Promise<void> {
  for (const name of await readdir(runsDir)) {
    if (keep.has(name)) continue;
    log.info(`Removing leftover run directory ${name}`);
    // A container of an earlier process may still run and change the tree: never follow a link.
    await removeTree(path.join(runsDir, name));
  }
}
