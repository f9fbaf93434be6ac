// Bundles the client (dist/cli/main.js and everything it imports, zod and commander included) into
// one CommonJS file, dist/cli/cl.cjs, that bin/cl runs with a V8 code cache. Resolving and reading
// some hundred ES modules at every start costs more than the work most commands do; one file,
// compiled once, costs little. Modules reached through import() stay unevaluated until needed.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const OUT = 'dist/cli/cl.cjs';

rmSync(`${OUT}.cache`, { force: true }); // compiled from the bundle this replaces
await build({
  input: 'dist/cli/main.js',
  platform: 'node',
  logLevel: 'warn',
  // Native or server-side packages never belong in the client; left to require() should one be reached.
  external: ['better-sqlite3', 'dockerode', 'fastify', 'pino'],
  output: { file: OUT, format: 'cjs', codeSplitting: false },
});

// Warm the code cache with what every command compiles (the commands, their options, the
// schemas), so the first real command starts as fast as the later ones.
execFileSync(process.execPath, ['bin/cl', 'help'], { stdio: 'ignore', env: { ...process.env, CODALAB_HOME: 'dist/.cl-build-home' } });
rmSync('dist/.cl-build-home', { recursive: true, force: true });
