// End-to-end parity with CodaLab, round 2: worker tags with `_` (the seed's own example), runs on
// top of failed or killed parents with --allow-failed-dependencies (run, make, mimic), a default
// worker that runs as many bundles at once as it has CPUs, and usage errors of cl-server and
// cl-worker (exit 2, one line naming the flag).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, REPO_ROOT, waitFor } from './harness.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bin/ program that is expected to exit by itself (a refused flag), with a hang deadline. */
function runBin(cluster: Cluster, name: string, args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', name), ...args], {
      cwd: cluster.root,
      env: cluster.baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} ${args.join(' ')} did not exit; stderr: ${stderr}`));
    }, 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitOk(cluster: Cluster, uuid: string): Promise<void> {
  const waited = await cluster.cl(['wait', uuid], { timeoutMs: 120_000 });
  expect(waited.code, `${waited.stderr}\n${await cluster.clOk(['info', uuid])}\n${cluster.describeLogs()}`).toBe(0);
}

describe('a worker tagged unique_worker_tag, as in the seed', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
    await cluster.clOk(['work', `${cluster.url}::`]);
  });
  afterAll(() => cluster.stop());

  it('starts, shows its tag, and runs --request-queue tag=unique_worker_tag', async () => {
    cluster.startWorker({ id: 'seed-worker', tag: 'unique_worker_tag' });
    const uuid = await cluster.clOk(['run', '--request-queue', 'tag=unique_worker_tag', 'date']);
    await waitOk(cluster, uuid);
    expect(await cluster.clOk(['info', '-f', 'request_queue', uuid])).toBe('unique_worker_tag');
    expect(await cluster.clOk(['workers'])).toContain('unique_worker_tag');
  }, 150_000);

  it('refuses a tag outside the allowed set, naming the set', async () => {
    const refused = await runBin(cluster, 'cl-worker', ['--server', cluster.url, '--tag', 'gpu/fast']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      "cl-worker: Invalid --tag 'gpu/fast': use 1 to 100 letters, digits, underscores (_) and hyphens (-).",
    );
    const queue = await cluster.cl(['run', '--request-queue', 'tag=gpu/fast', 'date']);
    expect(queue.code).toBe(1);
    expect(queue.stderr.trim()).toBe(
      "cl: Invalid value for --request-queue 'gpu/fast': use 1 to 100 letters, digits, underscores (_) and hyphens (-).",
    );
  });
});

describe('a server with one default worker', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
    await cluster.clOk(['work', `${cluster.url}::`]);
    cluster.startWorker({ id: 'default-slots' });
  });
  afterAll(() => cluster.stop());

  it('runs two bundles at once with no --slots (one slot per CPU)', async () => {
    // Each run waits for a file that the test writes only once both are running at the same time.
    const wait = 'while [ ! -e go ]; do sleep 0.1; done; echo went';
    const first = await cluster.clOk(['run', wait]);
    const second = await cluster.clOk(['run', wait]);
    try {
      await waitFor(
        async () => {
          const states = await Promise.all([first, second].map((uuid) => cluster.clOk(['info', '-f', 'state', uuid])));
          return states.every((s) => s === 'running') ? true : undefined;
        },
        120_000,
        'both runs to be running at once',
      );
    } catch (error) {
      // Free the worker for the tests below: neither run can finish by itself.
      for (const uuid of [first, second]) await cluster.cl(['kill', uuid]);
      throw error;
    }
    for (const uuid of [first, second]) await cluster.clOk(['write', `${uuid}/go`, 'go']);
    for (const uuid of [first, second]) {
      await waitOk(cluster, uuid);
      expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('went');
    }
  }, 200_000);

  describe('--allow-failed-dependencies', () => {
    let failed = '';
    let killed = '';
    beforeAll(async () => {
      failed = await cluster.clOk(['run', 'echo left > out.txt; exit 3', '-n', 'broken']);
      expect((await cluster.cl(['wait', failed], { timeoutMs: 120_000 })).code).toBe(1);
      expect(await cluster.clOk(['info', '-f', 'state', failed])).toBe('failed');
      // Killed while staged (no worker serves its queue): killed with no contents at all.
      killed = await cluster.clOk(['run', '--request-queue', 'nobody-serves-this', 'echo never', '-n', 'stopped']);
      await cluster.waitForState(killed, ['staged']);
      await cluster.clOk(['kill', killed]);
      await cluster.waitForState(killed, ['killed']);
    }, 150_000);

    it('fails a run on a failed parent without the flag, and says which flag to use', async () => {
      const child = await cluster.clOk(['run', `f:${failed}`, 'cat f/out.txt']);
      await cluster.waitForState(child, ['failed']);
      const message = await cluster.clOk(['info', '-f', 'failure_message', child]);
      expect(message).toContain(`broken (${failed}) is failed`);
      expect(message).toContain('--allow-failed-dependencies');
    });

    it('runs on top of failed and killed parents, mounting what they left', async () => {
      const child = await cluster.clOk([
        'run', '--allow-failed-dependencies', `f:${failed}`, `k:${killed}`,
        'cat f/out.txt; if [ -e k ]; then echo k-present; else echo k-absent; fi',
      ]);
      await waitOk(cluster, child);
      expect(await cluster.clOk(['cat', `${child}/stdout`])).toBe('left\nk-absent');
      expect(await cluster.clOk(['info', '-f', 'allow_failed_dependencies', child])).toBe('true');
      expect(await cluster.clOk(['info', child])).toMatch(/^allow_failed_dependencies\s*:\s*true$/m);
    }, 150_000);

    it('makes a bundle from failed and killed parents', async () => {
      const make = await cluster.clOk(['make', '--allow-failed-dependencies', `f:${failed}`, `k:${killed}`]);
      await waitOk(cluster, make);
      expect(await cluster.clOk(['cat', `${make}/f/out.txt`])).toBe('left');
      expect(await cluster.clOk(['info', '-f', 'allow_failed_dependencies', make])).toBe('true');
      const refused = await cluster.clOk(['make', `f:${failed}`]);
      await cluster.waitForState(refused, ['failed']);
    }, 150_000);

    it('mimics a run with a failed bundle in place of a ready one', async () => {
      const good = await cluster.clOk(['run', 'echo right > out.txt']);
      await waitOk(cluster, good);
      const consumer = await cluster.clOk(['run', `in:${good}`, 'cat in/out.txt']);
      await waitOk(cluster, consumer);
      const mimicked = await cluster.clOk(['mimic', good, failed, '--allow-failed-dependencies']);
      await waitOk(cluster, mimicked);
      expect(await cluster.clOk(['cat', `${mimicked}/stdout`])).toBe('left');
      expect(await cluster.clOk(['info', '-f', 'allow_failed_dependencies', mimicked])).toBe('true');
    }, 150_000);
  });
});

describe('usage errors of cl-server and cl-worker', () => {
  const cluster = new Cluster();
  afterAll(() => cluster.stop());

  it.each([
    [['--database-url', 'postgres://u:pw@localhost'], "cl-server: Invalid --database-url 'postgres://u:***@localhost': expected sqlite:PATH, a file path or postgres://USER@HOST[:PORT]/DATABASE."],
    [['--database-url', 'mysql://localhost/x'], "cl-server: Invalid --database-url 'mysql://localhost/x': expected sqlite:PATH, a file path or postgres://USER@HOST[:PORT]/DATABASE."],
    [['--max-request-memory', '1m', '--min-request-memory', '2m'], 'cl-server: Invalid --max-request-memory 1m: it is below --min-request-memory (2m).'],
    [['--frobnicate'], "cl-server: unknown option '--frobnicate' (see cl-server --help)."],
    [['--port', 'eighty'], "cl-server: Invalid --port 'eighty': expected a whole number from 0 to 65535."],
  ])('cl-server %j exits 2 with one line', async (args, message) => {
    const refused = await runBin(cluster, 'cl-server', ['--home', join(cluster.root, 'refused'), ...args]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`${message}\n`);
  });

  it.each([
    [['--frobnicate'], "cl-worker: unknown option '--frobnicate' (see cl-worker --help)."],
    [['--slots', 'many'], "cl-worker: Invalid --slots 'many': expected a whole number of at least 1."],
  ])('cl-worker %j exits 2 with one line', async (args, message) => {
    const refused = await runBin(cluster, 'cl-worker', args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`${message}\n`);
  });

  it('starts on --database-url sqlite:PATH', async () => {
    const file = join(cluster.root, 'named.sqlite');
    await cluster.startServer(['--database-url', `sqlite:${file}`]);
    expect(existsSync(file)).toBe(true);
  });
});
