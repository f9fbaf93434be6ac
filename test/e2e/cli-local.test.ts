// End-to-end: with no server selected, `cl` starts the local instance (cl-server --with-worker)
// once in the background, and later calls reuse it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from './harness.js';

let cluster: Cluster;
const localEnv = { CODALAB_USERNAME: undefined, CODALAB_PASSWORD: undefined, CODALAB_ROOT_PASSWORD: undefined };

beforeAll(() => {
  cluster = new Cluster();
});

afterAll(() => {
  // The local server is detached on purpose (it outlives `cl`); this test owns it, so stop it.
  try {
    const { pid } = JSON.parse(readFileSync(join(cluster.clHome, 'local', 'server', 'address.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGTERM');
  } catch {
    // never started: nothing to stop
  }
});

it('starts the local instance on first use and reuses it', async () => {
  const first = await cluster.cl(['run', 'echo hi', '--tail'], { env: localEnv, timeoutMs: 120_000 });
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toMatch(/^0x[0-9a-f]{32}\nhi\n$/);
  expect(first.stderr).toContain('Starting the local CodaLab server');

  const status = await cluster.cl(['status'], { env: localEnv });
  expect(status.code, status.stderr).toBe(0);
  expect(status.stderr).toBe('');
  expect(status.stdout).toMatch(/^address:\s+local \(http:\/\/127\.0\.0\.1:\d+\)$/m);
  expect(status.stdout).toContain(join(cluster.clHome, 'local', 'server.log'));
  expect(await cluster.clOk(['cat', '^1/stdout'], { env: localEnv })).toBe('hi');
}, 150_000);
