// Runs one Slurm client command (sbatch, squeue, scancel) as an argv, never through a shell, with
// the environment the caller gives (SLURM_CONF and PATH live there). It owns turning a refusal
// into one line that names the command and Slurm's own reason; it knows nothing about jobs.
import { spawn } from 'node:child_process';

/** Stable codes for what went wrong; `retryable` says whether trying again later may help. */
export type SlurmErrorCode = 'SLURM_NOT_INSTALLED' | 'SLURM_REFUSED' | 'SLURM_TIMEOUT' | 'SLURM_BAD_OUTPUT';

export class SlurmCommandError extends Error {
  constructor(
    message: string,
    readonly code: SlurmErrorCode,
    readonly retryable: boolean,
    readonly stderr = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SlurmCommandError';
  }
}

export interface SlurmCommandOptions {
  /** The whole environment of the command: Slurm reads SLURM_CONF from it, sbatch copies it into the job. */
  readonly env: NodeJS.ProcessEnv;
  /** Written to the command's stdin (sbatch reads its batch script there). */
  readonly input?: string;
  /** Default 30 s: a controller that is down makes each client retry for a while before it gives up. */
  readonly timeoutMs?: number;
}

/** Runs `program args`; resolves to stdout when it exits 0, else throws a SlurmCommandError. */
export function runSlurmCommand(program: string, args: readonly string[], options: SlurmCommandOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A command that exits before reading its stdin makes the write fail with EPIPE; its exit
    // status and stderr then say why, so the write error itself is safe to drop.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new SlurmCommandError(`${program} not found: install the Slurm client commands (scripts/setup.sh does it as root).`, 'SLURM_NOT_INSTALLED', false, '', { cause: error })
          : new SlurmCommandError(`${program} could not start: ${error.message}`, 'SLURM_REFUSED', true, '', { cause: error }),
      );
    });
    child.on('close', (code, signal) => {
      const err = Buffer.concat(stderr).toString('utf8');
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      if (signal !== null) {
        return reject(new SlurmCommandError(`${program} did not answer within ${timeoutMs / 1000} s (is slurmctld running?)`, 'SLURM_TIMEOUT', true, err));
      }
      reject(new SlurmCommandError(`${program} failed (exit ${code}): ${slurmReason(program, err)}`, 'SLURM_REFUSED', false, err));
    });
  });
}

/**
 * Slurm's reason in one line: its `error:` lines without the program prefix, repeats dropped.
 * sbatch often says the same thing twice ("invalid partition specified: x" and "Batch job
 * submission failed: Invalid partition name specified"); the first names the value, so it leads.
 */
export function slurmReason(program: string, stderr: string): string {
  const prefix = new RegExp(`^(?:${program.split('/').pop() ?? program}: )?(?:error: |fatal: )?`);
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.replace(prefix, ''));
  const unique = [...new Set(lines)];
  return unique.length === 0 ? 'no message on stderr' : unique.join('; ');
}
