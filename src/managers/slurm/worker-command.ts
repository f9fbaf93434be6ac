// The cl-worker command line a Slurm job runs. Credentials travel as the path of a password file
// the job can read (cl-worker --password-file), never as a value on the command line, where
// squeue, scontrol and ps would show it to every user of the cluster.

export interface WorkerCommandOptions {
  /** The cl-worker program as the compute node sees it: a name on PATH or an absolute path. */
  readonly workerProgram: string;
  readonly serverUrl: string;
  /** Username on line 1, password on line 2, mode 600, on a file system the compute node mounts. */
  readonly passwordFile: string;
  /** Every other cl-worker flag (--work-dir, --tag, --exit-when-idle, ...), already split. */
  readonly extraArgs?: readonly string[];
}

export function workerCommand(options: WorkerCommandOptions): string[] {
  return [
    options.workerProgram,
    '--server',
    options.serverUrl,
    '--password-file',
    options.passwordFile,
    ...(options.extraArgs ?? []),
  ];
}
