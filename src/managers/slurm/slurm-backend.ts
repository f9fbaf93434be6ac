// Workers as Slurm batch jobs: sbatch runs this checkout's bin/cl-worker with the host's Node
// (both at paths the compute nodes see), tracked with squeue and cancelled with scancel. A job is
// named PREFIX + worker id, and the worker id begins with the manager's name, so a restarted
// manager finds its own jobs by name and never touches anyone else's. The credentials reach the
// job as a password file (mode 600) the manager writes, never on a command line or in the
// job's environment, where squeue, scontrol or ps would show them.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { Clock } from '../../common/clock.js';
import type { Credentials } from '../../common/credentials.js';
import type { SlurmBackendConfig } from '../config.js';
import type { BackendJob, WorkerBackend, WorkerLaunch } from '../worker-backend.js';
import { SlurmBatchClient } from './slurm-batch-client.js';
import { isActiveSlurmState, type SlurmJob } from './squeue-jobs.js';

/** Variables kept out of the jobs' environment (sbatch copies the rest into each job). */
const SECRET_VARIABLES = ['CODALAB_USERNAME', 'CODALAB_PASSWORD', 'CODALAB_ROOT_PASSWORD'];

/** The environment for Slurm commands and the jobs: the manager's, without the credentials. */
export function slurmCommandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!SECRET_VARIABLES.includes(key)) kept[key] = value;
  return kept;
}

export class SlurmWorkerBackend implements WorkerBackend {
  readonly name = 'slurm-batch';
  /** Worker id -> Slurm job id, of the jobs submitted or listed and not yet removed. */
  private readonly jobIds = new Map<string, { jobId: string; submittedAt: number }>();
  /** Slurm job ids removed while squeue still lists them (finished jobs stay listed for MinJobAge). */
  private readonly removed = new Set<string>();
  private passwordWritten = false;

  constructor(
    private readonly config: SlurmBackendConfig,
    private readonly managerName: string,
    private readonly client: SlurmBatchClient,
    private readonly clock: Clock,
  ) {}

  /** Names of this manager's jobs start with this. */
  get ownNamePrefix(): string {
    return `${this.config.jobNamePrefix}${this.managerName}-`;
  }

  get passwordFile(): string {
    return path.join(this.config.credentialsDir, 'password');
  }

  /** Our jobs as squeue lists them; a job we submitted that squeue no longer lists has finished. */
  async listJobs(): Promise<BackendJob[]> {
    // A worker id is NAME-HEX: a hyphen after our prefix means another manager's name (ours + "-x").
    const listed = (await this.client.list(this.ownNamePrefix)).filter((job) => !job.name.slice(this.ownNamePrefix.length).includes('-'));
    const listedIds = new Set(listed.map((job) => job.jobId));
    for (const jobId of this.removed) if (!listedIds.has(jobId)) this.removed.delete(jobId);
    const jobs = new Map<string, BackendJob>();
    for (const job of listed.filter((j) => !this.removed.has(j.jobId))) {
      const id = job.name.slice(this.config.jobNamePrefix.length);
      const known = this.jobIds.get(id);
      const createdAt = job.submittedAt ?? known?.submittedAt ?? this.clock.now();
      this.jobIds.set(id, { jobId: job.jobId, submittedAt: createdAt });
      jobs.set(id, { id, state: backendState(job), createdAt, detail: jobDetail(job) });
    }
    for (const [id, known] of this.jobIds) {
      if (jobs.has(id)) continue;
      jobs.set(id, { id, state: 'finished', createdAt: known.submittedAt, detail: `Slurm job ${known.jobId} is no longer listed by squeue` });
      // Slurm has forgotten it, so removeJob has nothing to cancel.
      this.jobIds.delete(id);
    }
    return [...jobs.values()];
  }

  async startJob(launch: WorkerLaunch): Promise<void> {
    await this.writePasswordFile(launch.credentials);
    const workDir = path.join(this.config.workDirRoot, launch.id);
    // Slurm opens the output file before the job starts: its directory must exist by then.
    await mkdir(workDir, { recursive: true });
    const jobId = await this.client.submit({
      namePrefix: this.config.jobNamePrefix,
      id: launch.id,
      partition: this.config.partition ?? undefined,
      cpus: launch.shape.cpus,
      memoryBytes: launch.shape.memoryBytes,
      gpus: launch.shape.gpus,
      timeLimitMinutes: this.config.timeLimitMinutes ?? undefined,
      outputPath: path.join(workDir, 'slurm-%j.out'),
      command: [
        this.config.nodeBinary,
        path.join(this.config.codalabRoot, 'bin', 'cl-worker'),
        ...launch.args,
        '--work-dir',
        workDir,
        '--password-file',
        this.passwordFile,
      ],
    });
    this.jobIds.set(launch.id, { jobId, submittedAt: this.clock.now() });
  }

  async removeJob(id: string): Promise<void> {
    const jobId = this.jobIds.get(id)?.jobId ?? (await this.findJobId(id));
    this.jobIds.delete(id);
    if (jobId === undefined) return; // Slurm no longer knows it: what was asked for holds.
    await this.client.cancel(jobId);
    this.removed.add(jobId);
  }

  private async findJobId(id: string): Promise<string | undefined> {
    const name = `${this.config.jobNamePrefix}${id}`;
    return (await this.client.list(name)).find((job) => job.name === name)?.jobId;
  }

  /** One file for all jobs (they share the manager's credentials), rewritten once per start. */
  private async writePasswordFile(credentials: Credentials): Promise<void> {
    if (this.passwordWritten) return;
    await mkdir(this.config.credentialsDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.passwordFile, `${credentials.username}\n${credentials.password}\n`, { mode: 0o600 });
    this.passwordWritten = true;
  }
}

/** COMPLETING counts as finished: the worker process has exited and Slurm is cleaning up. */
function backendState(job: SlurmJob): BackendJob['state'] {
  if (!isActiveSlurmState(job.state) || job.state === 'COMPLETING') return 'finished';
  if (['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD'].includes(job.state)) return 'pending';
  return 'running';
}

function jobDetail(job: SlurmJob): string {
  const reason = job.reason !== 'None' && job.reason !== '' ? `, ${job.reason}` : '';
  return `Slurm job ${job.jobId} ${job.state}${reason}`;
}
