// The seam between the manager loop and where workers run (Docker, Kubernetes; Slurm fits it as
// sbatch / squeue / scancel). A backend only starts, lists and removes jobs; it decides nothing.
// Jobs carry the manager's name (a label, or a job-name prefix) so a restarted manager finds its
// own jobs again and never touches anyone else's.
import type { Credentials } from '../common/credentials.js';
import type { WorkerShape } from './decide-workers.js';

export interface WorkerLaunch {
  /** The worker id, also the job's name. */
  id: string;
  shape: WorkerShape;
  /** cl-worker's arguments after the program name, without --work-dir and credentials (see workerArgs). */
  args: readonly string[];
  credentials: Credentials;
}

export interface BackendJob {
  id: string;
  /** pending: queued or being created; running: its process runs; finished: it ended (any way). */
  state: 'pending' | 'running' | 'finished';
  /** Epoch milliseconds when it was created. */
  createdAt: number;
  /** How it ended or why it waits, for the log (e.g. "exit code 0"); null when nothing to say. */
  detail: string | null;
}

export interface WorkerBackend {
  readonly name: string;
  /** The jobs this manager started, found again by label or name; finished ones included until removed. */
  listJobs(): Promise<BackendJob[]>;
  startJob(launch: WorkerLaunch): Promise<void>;
  /** Stops the job if it still runs and forgets it (container or pod removed, batch job cancelled). */
  removeJob(id: string): Promise<void>;
}
