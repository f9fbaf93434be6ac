// What every bench shares: reading `--name value` options, the median of samples, and waiting for
// a condition (the benches time what the user waits for, so they poll rather than sleep blindly).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);

/** The value given after `name` on the command line, or `fallback`. */
export function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Polls `check` every `pollMs` until it returns something truthy, which it returns. */
export async function waitFor(check, what, timeoutMs = 120_000, pollMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await sleep(pollMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `n` child processes that spin until stopped, to measure with the machine under load (`--load N`).
 * Returns a function that stops them.
 */
export function startLoad(n) {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  return () => {
    for (const child of children) child.kill('SIGKILL');
  };
}

/** Stops the processes a bench started (the last started first), lets them exit, removes its home. */
export async function stopBench(children, home, graceMs = 1500) {
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await sleep(graceMs);
  rmSync(home, { recursive: true, force: true });
}

let exitOnSignals = false;

/** Runs the synchronous `cleanup` when the process exits, Ctrl-C and SIGTERM included. */
export function onExit(cleanup) {
  process.on('exit', cleanup);
  if (exitOnSignals) return;
  exitOnSignals = true;
  // Exiting from the signal runs the 'exit' listeners, which a default signal death skips.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/** Runs a bench's main; a failure is one line on stderr and exit status 1. */
export function runBench(main) {
  main().catch((error) => {
    console.error(`bench failed: ${error.message}`);
    process.exit(1);
  });
}
