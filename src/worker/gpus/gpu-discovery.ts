// Finds the host's NVIDIA GPUs with `nvidia-smi` and turns `--gpuset` into the GPUs handed to runs,
// always by UUID (indices can change across reboots; UUIDs cannot). No nvidia-smi means no GPUs,
// never an error. It only runs nvidia-smi; assigning GPUs to runs is the resource pool's job.
import { execFile } from 'node:child_process';
import { UserInputError } from '../../common/user-input-error.js';

export const NVIDIA_SMI_QUERY = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader'];

export interface GpuInfo {
  index: string;
  uuid: string;
  name: string;
  /** As nvidia-smi prints it, e.g. `81559 MiB`. */
  memory: string;
}

export interface GpuDetection {
  gpus: GpuInfo[];
  /** Why detection failed (nvidia-smi present but broken); null when it worked or is absent. */
  problem: string | null;
}

/** Parses `0, GPU-8c7d..., NVIDIA H100 80GB HBM3, 81559 MiB` lines; lines that do not parse are skipped. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    const [index, uuid, name, memory] = fields;
    if (index === undefined || uuid === undefined || !/^\d+$/.test(index) || !uuid.startsWith('GPU-')) continue;
    gpus.push({ index, uuid, name: name ?? '', memory: memory ?? '' });
  }
  return gpus;
}

export interface DetectOptions {
  /** The executable (default `nvidia-smi`, looked up on PATH). */
  command?: string;
  /** Environment for the child, e.g. a PATH in tests; default: this process's. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs nvidia-smi; absent (ENOENT) means no GPUs; a failure is reported as a problem with no GPUs. */
export function detectGpus(options: DetectOptions = {}): Promise<GpuDetection> {
  const command = options.command ?? 'nvidia-smi';
  return new Promise((resolve) => {
    execFile(
      command,
      NVIDIA_SMI_QUERY,
      { timeout: options.timeoutMs ?? 10_000, ...(options.env ? { env: options.env } : {}) },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return resolve({ gpus: [], problem: null });
          const detail = String(stderr).trim().split('\n')[0] || error.message;
          return resolve({ gpus: [], problem: `nvidia-smi failed: ${detail}` });
        }
        resolve({ gpus: parseNvidiaSmi(String(stdout)), problem: null });
      },
    );
  });
}

/**
 * The GPUs runs may use: all detected ones for `null` (`--gpuset ALL`), else those named by index
 * or UUID. A name that matches no detected GPU is an error, so a typo does not hide a GPU.
 */
export function selectGpus(detected: readonly GpuInfo[], gpuset: readonly string[] | null): GpuInfo[] {
  if (gpuset === null) return [...detected];
  return gpuset.map((name) => {
    const gpu = detected.find((g) => g.index === name || g.uuid === name);
    if (!gpu) {
      const known = detected.length === 0 ? 'none were found' : `found: ${detected.map((g) => `${g.index} (${g.uuid})`).join(', ')}`;
      throw new UserInputError(`--gpuset names GPU ${name}, which nvidia-smi does not list (${known}).`);
    }
    return gpu;
  });
}
