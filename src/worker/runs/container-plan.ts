// Turns a run into the container to start: command line, mounts, limits, user and labels.
// Pure: it is given the host paths of the run dir and of each cached dependency, and refuses
// dependency paths that would escape the run dir. It starts nothing and touches no file.
import path from 'node:path';
import type { RunSpec } from '../../protocol/index.js';
import { RUN_LABEL, WORK_DIR_LABEL, WORKER_LABEL, type ContainerSpec, type Mount } from '../docker/container-runtime.js';
import { EXIT_REPORT_SCRIPT } from '../docker/exit-report.js';
import { normalizeRelative } from './upload-exclusion.js';

export interface PlannedDependency {
  childPath: string;
  hostPath: string;
  isDirectory: boolean;
  /**
   * Top-level entries; needed only for child path `.`, which spreads a directory's entries. A
   * symbolic link among them carries its target: it is recreated as a link, never mounted, since
   * Docker would follow it on the host.
   */
  entries?: ReadonlyArray<{ name: string; isDirectory: boolean; linkTarget?: string }>;
}

export interface MountPoint {
  /** Relative to the run dir. */
  path: string;
  isDirectory: boolean;
  /** A spread dependency's symbolic link, made as a link with this target instead of a mount. */
  linkTarget?: string;
}

export interface ContainerPlan {
  spec: ContainerSpec;
  /** Where dependencies appear inside the run dir; created empty beforehand, left out of the upload. */
  mountPoints: MountPoint[];
}

export interface PlanContext {
  workerId: string;
  runDir: string;
  user: string;
  /** The cores this run was given; empty = any. */
  cpuset: readonly number[];
  /** UUIDs of the GPUs this run was given. */
  gpus?: readonly string[];
  /** /dev/shm size and process limit of the container (`--shared-memory-size-gb`, `--pids-limit`). */
  shmBytes?: number;
  pidsLimit?: number;
  imageRef: string;
  logMaxBytes: number;
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * `( COMMAND\n) >stdout 2>stderr`: a newline so a trailing comment cannot swallow the `)`; then the
 * exit report, by which the worker learns of the exit before the engine tells it (exit-report.ts).
 * The shell exits with the command's status, as it would without the report.
 */
export function wrapCommand(command: string): string[] {
  return ['/bin/bash', '-c', `( ${command}\n) >stdout 2>stderr; ${EXIT_REPORT_SCRIPT}`];
}

export function planContainer(run: RunSpec, deps: readonly PlannedDependency[], ctx: PlanContext): ContainerPlan {
  const home = `/${run.uuid}`;
  const mountPoints = dependencyMountPoints(deps);
  const mounts: Mount[] = [
    { source: ctx.runDir, target: home, readOnly: false },
    ...mountPoints
      .filter((m) => m.linkTarget === undefined)
      .map((m) => ({ source: m.hostPath, target: `${home}/${m.path}`, readOnly: true })),
  ];
  return {
    mountPoints: mountPoints.map(({ path, isDirectory, linkTarget }) => ({ path, isDirectory, ...(linkTarget !== undefined ? { linkTarget } : {}) })),
    spec: {
      name: `codalab-run-${run.uuid}`,
      image: ctx.imageRef,
      command: wrapCommand(run.command),
      workingDir: home,
      env: { HOME: home, CODALAB: 'true', ...gpuEnvironment(ctx.gpus ?? []) },
      user: ctx.user,
      mounts,
      memoryBytes: run.resources.memory,
      cpus: run.resources.cpus,
      cpuset: ctx.cpuset,
      gpus: ctx.gpus ?? [],
      ...(ctx.shmBytes !== undefined ? { shmBytes: ctx.shmBytes } : {}),
      ...(ctx.pidsLimit !== undefined ? { pidsLimit: ctx.pidsLimit } : {}),
      network: run.resources.network,
      labels: { [RUN_LABEL]: run.uuid, [WORKER_LABEL]: ctx.workerId, [WORK_DIR_LABEL]: path.dirname(ctx.runDir) },
      logMaxBytes: ctx.logMaxBytes,
    },
  };
}

/**
 * Which GPUs the program sees, by UUID (indices differ between host and container). A CPU run
 * gets `void`, so an image that says `NVIDIA_VISIBLE_DEVICES=all` cannot reach the host's GPUs
 * on an engine whose default runtime is nvidia.
 */
export function gpuEnvironment(gpus: readonly string[]): Record<string, string> {
  if (gpus.length === 0) return { NVIDIA_VISIBLE_DEVICES: 'void' };
  const list = gpus.join(',');
  return { NVIDIA_VISIBLE_DEVICES: list, CUDA_VISIBLE_DEVICES: list };
}

function dependencyMountPoints(deps: readonly PlannedDependency[]): Array<MountPoint & { hostPath: string }> {
  const points: Array<MountPoint & { hostPath: string }> = [];
  for (const dep of deps) {
    const child = safeChildPath(dep.childPath);
    if (child !== '') {
      points.push({ path: child, hostPath: dep.hostPath, isDirectory: dep.isDirectory });
      continue;
    }
    if (!dep.isDirectory) throw new PlanError(`Dependency '${dep.childPath}' is a file; only a directory can be spread with '.'.`);
    for (const entry of dep.entries ?? []) {
      const point = { path: safeChildPath(entry.name), hostPath: `${dep.hostPath}/${entry.name}`, isDirectory: entry.isDirectory };
      points.push(entry.linkTarget !== undefined ? { ...point, isDirectory: false, linkTarget: entry.linkTarget } : point);
    }
  }
  const seen = new Set<string>();
  for (const p of points) {
    if (seen.has(p.path)) throw new PlanError(`Two dependencies are mounted at '${p.path}'.`);
    if (p.path === 'stdout' || p.path === 'stderr') throw new PlanError(`A dependency cannot be named '${p.path}'.`);
    seen.add(p.path);
  }
  return points;
}

/** The normalized relative path, '' for `.`; throws for absolute paths and `..`. */
export function safeChildPath(childPath: string): string {
  if (childPath.startsWith('/') || childPath.split('/').includes('..')) {
    throw new PlanError(`Invalid dependency path '${childPath}': it must stay inside the run directory.`);
  }
  return normalizeRelative(childPath);
}
