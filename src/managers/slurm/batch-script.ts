// The batch script sbatch runs: a POSIX sh script that execs one argv. Every argument is quoted
// here, so no value (a path, a tag, a server URL) is ever read by a shell as code.

/** One argument for sh: wrapped in single quotes, each ' written as '\''. */
export function quoteForShell(arg: string): string {
  if (arg.includes('\0')) throw new Error('A command argument for a Slurm job holds a NUL byte, which no shell can pass on.');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The script for `sbatch`: it replaces the shell with `argv`, so signals from scancel reach it. */
export function batchScript(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('A Slurm job needs a command to run.');
  return `#!/bin/sh\nexec ${argv.map(quoteForShell).join(' ')}\n`;
}
