// How long a whole `cl` process takes for the commands people type most, against the floor of
// starting Node itself (`node -e 0`), interleaved so that both see the same machine load:
// `cl --version`, and `cl info -f state ^1` on a warm local instance (server already running).
// Prints the median of each and the ratio to Node. Needs `npm run build` (bin/cl runs the bundle).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, option } from './bench-support.mjs';

const runs = Number(option('--runs', '15'));
const cl = fileURLToPath(new URL('../bin/cl', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'cl-start-bench-'));
const env = { ...process.env, CODALAB_HOME: home };
delete env.CODALAB_USERNAME;
delete env.CODALAB_PASSWORD;

/** Seconds one process takes from spawn to exit. */
function timed(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

try {
  // The local instance starts on first use; one bundle makes ^1 resolvable.
  execFileSync(process.execPath, [cl, 'upload', '-c', 'bench', '-n', 'bench'], { env, stdio: 'ignore' });
  const cases = { node: ['-e', '0'], 'cl --version': [cl, '--version'], 'cl info -f state ^1': [cl, 'info', '-f', 'state', '^1'] };
  const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let i = 0; i < runs; i += 1) for (const [name, args] of Object.entries(cases)) samples[name].push(timed(args));
  const floor = median(samples.node);
  console.log(`runs: ${runs} each, interleaved`);
  for (const [name, values] of Object.entries(samples)) {
    const m = median(values);
    console.log(`${name.padEnd(22)} ${m.toFixed(3)} s   ${(m / floor).toFixed(2)}x node`);
  }
} finally {
  spawnSync(process.execPath, [cl, 'local', 'stop'], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
