// End-to-end: resource requests through bin/cl, a real server and a real worker. Requests beyond
// the server's bounds fail at once with the limit; a run no worker can take stays staged with a
// reason that has numbers; limits end runs `failed` with their message, and a run's stored results
// stay within its disk request; network off means no route.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE, '--max-request-memory', '1g', '--max-request-gpus', '2']);
  await cluster.clOk(['work', `${cluster.url}::`]);
  cluster.startWorker({ id: 'cpu-only', extraArgs: ['--slots', '2'] });
});

afterAll(async () => {
  await cluster?.stop();
});

it('refuses a request above the server maximum at once, naming the limit', async () => {
  const result = await cluster.cl(['run', '--request-memory', '4g', 'date']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("--request-memory 4g is above this server's maximum of 1g; ask for at most 1g.");
  const gpus = await cluster.cl(['run', '--request-gpus', '3', 'date']);
  expect(gpus.stderr).toContain("--request-gpus 3 is above this server's maximum of 2");
});

it('keeps a GPU run on a GPU-less worker staged, saying why with numbers', async () => {
  const uuid = await cluster.clOk(['run', '--request-gpus', '1', '--request-memory', '512m', 'nvidia-smi']);
  const reason = await waitFor(
    async () => {
      const status = await cluster.clOk(['info', '-f', 'state,staged_status', uuid]);
      return status.includes('largest worker') ? status : undefined;
    },
    60_000,
    'a staged_status with the reason',
  );
  expect(reason).toBe('staged\tNo worker can take this run: needs 1 GPU; largest worker has 0.');
  expect(await cluster.clOk(['info', uuid])).toMatch(/staged_status\s*:\s*No worker can take this run: needs 1 GPU; largest worker has 0\./);
  expect(await cluster.clOk(['workers'])).toMatch(/^worker_id\s.*\swarning$/m);
  await cluster.clOk(['kill', uuid]);
}, 90_000);

it('ends `sleep 60` with --request-time 2s as failed, with the time message', async () => {
  const uuid = await cluster.clOk(['run', '--request-time', '2s', '--request-memory', '256m', 'sleep 60']);
  expect(await cluster.waitForState(uuid, ['failed', 'ready', 'killed'])).toBe('failed');
  expect(await cluster.clOk(['info', '-f', 'failure_message', uuid])).toMatch(
    /^Time limit 2s exceeded \(ran 2(\.\d)?s\)\. Raise --request-time\.$/,
  );
}, 120_000);

/** Bytes of all files below `dir`. */
function filesBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(path.join(entry.parentPath, entry.name)).size, 0);
}

it('keeps at most --request-disk 20m of a run writing 200m, stdout first, and says what was left out', async () => {
  // 20 files of 10m; the run may be stopped for disk before it writes them all.
  const write = 'echo started; for i in $(seq 1 20); do head -c 10485760 /dev/zero > f$i; done; echo wrote-all';
  const uuid = await cluster.clOk(['run', '--request-disk', '20m', '--request-memory', '256m', write]);
  expect(await cluster.waitForState(uuid, ['failed', 'ready', 'killed'], 180_000)).toBe('failed');
  const failure = await cluster.clOk(['info', '-f', 'failure_message', uuid]);
  expect(failure).toMatch(/Kept \d+(\.\d)?[km]? of the results; \d+(\.\d)?[kmg]? in \d+ files? (was|were) not uploaded\./);
  expect(failure).toMatch(/^(Disk limit 20m exceeded \(wrote .*\)\. Raise --request-disk\.|Results did not fit the disk limit 20m\.) /);
  expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toContain('started');
  const out = mkdtempSync(path.join(os.tmpdir(), 'cl-disk-download-'));
  try {
    await cluster.clOk(['download', uuid, '-o', path.join(out, 'results')]);
    const stored = filesBytes(path.join(out, 'results'));
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThanOrEqual(20 * 1024 ** 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 240_000);

it('gives --request-network false no route out, and a bare --request-network one', async () => {
  const probe = "tail -n +2 /proc/net/route | awk '{print $1\":\"$2}'; ls /sys/class/net";
  const off = await cluster.clOk(['run', '--request-network', 'false', '--request-memory', '256m', probe]);
  const on = await cluster.clOk(['run', '--request-network', '--request-memory', '256m', probe]);
  for (const uuid of [off, on]) expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
  expect(await cluster.clOk(['info', '-f', 'request_network', off])).toBe('false');
  const offOut = await cluster.clOk(['cat', `${off}/stdout`]);
  expect(offOut).not.toContain(':00000000');
  expect(offOut.trim()).toBe('lo');
  expect(await cluster.clOk(['cat', `${on}/stdout`])).toContain('eth0:00000000');
}, 150_000);
