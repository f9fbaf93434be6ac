// Reads squeue's answer into jobs: `squeue --json` where this Slurm has it (22.05 and later, its
// job_state a string there and a list of strings from 23.02), else the plain `-o` format. Pure
// parsing; running squeue is the client's job.

/** One job as squeue reports it. `state` is Slurm's base state: PENDING, RUNNING, COMPLETED, ... */
export interface SlurmJob {
  readonly jobId: string;
  readonly name: string;
  readonly state: string;
  /** Why the job waits or ended ("Resources", "BadConstraints"); "None" when Slurm gives none. */
  readonly reason: string;
  /** Epoch milliseconds when it was submitted; null when squeue did not say. */
  readonly submittedAt: number | null;
}

/** States in which a job still holds or waits for a place; any other state is final. */
const ACTIVE_STATES: ReadonlySet<string> = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
]);

export function isActiveSlurmState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

/** The flags for the plain format: every state (finished jobs stay listed for MinJobAge), `|`-separated. */
export const SQUEUE_FORMAT_ARGS = ['--noheader', '--states=all', '--format=%i|%T|%r|%V|%j'];

/** Parses `squeue --json`. Throws when the text is not that shape. */
export function parseSqueueJson(text: string): SlurmJob[] {
  const parsed: unknown = JSON.parse(text);
  const jobs = isRecord(parsed) ? parsed['jobs'] : undefined;
  if (!Array.isArray(jobs)) throw new Error('squeue --json printed no "jobs" list');
  return jobs.map((job: unknown) => {
    if (!isRecord(job)) throw new Error('squeue --json listed a job that is not an object');
    const state = job['job_state'];
    return {
      jobId: String(job['job_id']),
      name: String(job['name']),
      state: Array.isArray(state) ? String(state[0] ?? 'UNKNOWN') : String(state),
      reason: typeof job['state_reason'] === 'string' ? job['state_reason'] : 'None',
      submittedAt: submitTimeOf(job['submit_time']),
    };
  });
}

/** Parses the output of squeue with SQUEUE_FORMAT_ARGS; the name comes last, so a `|` in it is kept. */
export function parseSqueueFormat(text: string): SlurmJob[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [jobId = '', state = '', reason = '', submitted = '', ...name] = line.split('|');
      // %V is the controller's local time without a zone, which Date.parse reads as local time too.
      const submittedAt = Date.parse(submitted);
      return { jobId: jobId.trim(), state, reason, submittedAt: Number.isNaN(submittedAt) ? null : submittedAt, name: name.join('|') };
    });
}

/** submit_time: epoch seconds (22.05), or { set, number } (23.02 and later). */
function submitTimeOf(value: unknown): number | null {
  const seconds = isRecord(value) ? (value['set'] === false ? undefined : value['number']) : value;
  return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
