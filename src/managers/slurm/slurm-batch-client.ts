// The Slurm side of the slurm-batch worker manager: submit a job, list our jobs, cancel one. It
// runs sbatch, squeue and scancel as argv arrays with the environment it was given; it holds no
// policy (how many workers, when to cancel): the manager decides that.
import { errorMessage } from '../../common/error-message.js';
import { batchScript } from './batch-script.js';
import { runSlurmCommand, SlurmCommandError } from './slurm-command.js';
import { sbatchArgs, type SlurmJobSpec } from './slurm-job-spec.js';
import { parseSqueueFormat, parseSqueueJson, SQUEUE_FORMAT_ARGS, type SlurmJob } from './squeue-jobs.js';

export interface SlurmBatchClientOptions {
  /** The environment of every Slurm command (SLURM_CONF, PATH); sbatch also hands it to the job. */
  readonly env: NodeJS.ProcessEnv;
  /** Per command; default 30 s. */
  readonly timeoutMs?: number;
}

export class SlurmBatchClient {
  // Set once squeue has refused --json, so later lists go straight to the plain format.
  private squeueHasJson = true;

  constructor(private readonly options: SlurmBatchClientOptions) {}

  /** Submits `spec` with sbatch and returns its job id. */
  async submit(spec: SlurmJobSpec): Promise<string> {
    const args = sbatchArgs(spec);
    const stdout = await this.run('sbatch', args, batchScript(spec.command));
    // --parsable prints "id" or "id;cluster".
    const jobId = stdout.trim().split(';')[0] ?? '';
    if (!/^\d+$/.test(jobId)) {
      throw new SlurmCommandError(`sbatch printed no job id (got ${JSON.stringify(stdout.trim().slice(0, 80))})`, 'SLURM_BAD_OUTPUT', false);
    }
    return jobId;
  }

  /** Jobs whose name starts with `namePrefix`, in any state Slurm still remembers. */
  async list(namePrefix: string): Promise<SlurmJob[]> {
    const jobs = await this.listAll();
    return jobs.filter((job) => job.name.startsWith(namePrefix));
  }

  /** Cancels a job; cancelling one that has already ended is not an error. */
  async cancel(jobId: string): Promise<void> {
    if (!/^\d+$/.test(jobId)) throw new Error(`Slurm job id ${JSON.stringify(jobId)} is not a number.`);
    await this.run('scancel', [jobId]);
  }

  private async listAll(): Promise<SlurmJob[]> {
    if (this.squeueHasJson) {
      try {
        return parseOutput('squeue --json', parseSqueueJson, await this.run('squeue', ['--json']));
      } catch (error) {
        if (!isMissingJsonSupport(error)) throw error;
        this.squeueHasJson = false;
      }
    }
    return parseSqueueFormat(await this.run('squeue', SQUEUE_FORMAT_ARGS));
  }

  private run(program: string, args: readonly string[], input?: string): Promise<string> {
    return runSlurmCommand(program, args, { env: this.options.env, input, timeoutMs: this.options.timeoutMs });
  }
}

function parseOutput<T>(what: string, parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (error) {
    throw new SlurmCommandError(`${what} printed what this client cannot read: ${errorMessage(error)}`, 'SLURM_BAD_OUTPUT', false, '', { cause: error });
  }
}

/** squeue before 21.08 has no --json, and a build without the openapi plugins cannot print it. */
function isMissingJsonSupport(error: unknown): boolean {
  return error instanceof SlurmCommandError && /unrecognized option|invalid option|json|openapi|data_parser/i.test(error.stderr);
}
