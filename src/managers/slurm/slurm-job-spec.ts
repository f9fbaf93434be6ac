// What the Slurm adapter is asked to run, and the rules a job name follows. The name is how the
// adapter finds its own jobs again (squeue lists every user's jobs), so it is checked here once.

/** A cl-worker job for sbatch. Slurm schedules by these requests; Docker enforces the run limits. */
export interface SlurmJobSpec {
  /** Prefix shared by all jobs of one worker manager; `list(prefix)` finds them again. */
  readonly namePrefix: string;
  /** Unique within the prefix; the job is named `${namePrefix}${id}`. */
  readonly id: string;
  /** Omitted: the cluster's default partition. */
  readonly partition?: string;
  readonly cpus: number;
  /** Rounded up to whole MiB for --mem. */
  readonly memoryBytes: number;
  /** Requested as --gres=gpu:N; 0 asks for none. */
  readonly gpus: number;
  /** Omitted: the partition's limit. */
  readonly timeLimitMinutes?: number;
  /** Where Slurm writes the job's stdout and stderr (`%j` is the job id). */
  readonly outputPath: string;
  /** The command, as an argv: program first. */
  readonly command: readonly string[];
}

/** Characters a job name may hold: matched by prefix, so no spaces or odd characters. */
export const SLURM_NAME_PATTERN = /^[A-Za-z0-9._-]*$/;

/** The full job name, or a one-line refusal. The prefix may be empty; the id may not. */
export function slurmJobName(namePrefix: string, id: string): string {
  for (const [what, value] of [['name prefix', namePrefix], ['job id', id]] as const) {
    if (!SLURM_NAME_PATTERN.test(value) || (what === 'job id' && value === '')) {
      throw new Error(`Slurm job ${what} ${JSON.stringify(value)} may hold only letters, digits, '.', '_' and '-'.`);
    }
  }
  return `${namePrefix}${id}`;
}

/** The sbatch flags for a spec (the script itself comes on stdin). */
export function sbatchArgs(spec: SlurmJobSpec): string[] {
  checkWholeNumber('CPU count', spec.cpus, 1);
  checkWholeNumber('GPU count', spec.gpus, 0);
  if (!(spec.memoryBytes > 0) || !Number.isFinite(spec.memoryBytes)) {
    throw new Error(`Slurm job memory must be a positive number of bytes, not ${spec.memoryBytes}.`);
  }
  const args = [
    '--parsable',
    `--job-name=${slurmJobName(spec.namePrefix, spec.id)}`,
    `--cpus-per-task=${spec.cpus}`,
    `--mem=${Math.ceil(spec.memoryBytes / 2 ** 20)}M`,
    `--output=${spec.outputPath}`,
  ];
  if (spec.partition !== undefined) args.push(`--partition=${spec.partition}`);
  if (spec.gpus > 0) args.push(`--gres=gpu:${spec.gpus}`);
  if (spec.timeLimitMinutes !== undefined) {
    checkWholeNumber('time limit (minutes)', spec.timeLimitMinutes, 1);
    args.push(`--time=${spec.timeLimitMinutes}`);
  }
  return args;
}

function checkWholeNumber(what: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new Error(`Slurm job ${what} must be a whole number of at least ${least}, not ${value}.`);
  }
}
