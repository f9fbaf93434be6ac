// Entry point of `cl-worker-manager`. No worker manager (Slurm, Kubernetes) exists yet: the
// launcher answers with one clear line instead of a module-not-found trace.
export function main(_argv: string[]): void {
  process.stderr.write(
    'cl-worker-manager: no worker managers are available in this version; start workers with cl-worker instead.\n',
  );
  process.exitCode = 1;
}
