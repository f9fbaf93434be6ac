// The slurm-batch backend against a real one-node Slurm (test/support/slurm.ts). A stand-in for
// cl-worker (run by sh in place of Node) sleeps or exits at once, so the tests control when jobs end.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateSlurm, type PrivateSlurm } from '../../../test/support/slurm.js';
import { HANG_DEADLINE_MS, waitFor } from '../../../test/support/wait-for.js';
import { systemClock, type Clock } from '../../common/clock.js';
import type { SlurmBackendConfig } from '../config.js';
import type { BackendJob, WorkerLaunch } from '../worker-backend.js';
import { SlurmWorkerBackend } from './slurm-backend.js';
import { SlurmBatchClient } from './slurm-batch-client.js';

let slurm: PrivateSlurm;
let client: SlurmBatchClient;

beforeAll(async () => {
  slurm = await startPrivateSlurm();
  client = new SlurmBatchClient({ env: slurm.env });
  const root = path.join(slurm.dir, 'codalab');
  await mkdir(path.join(root, 'bin'), { recursive: true });
  // Records its argv and the password file it was given, then sleeps when asked to.
  const standIn = [
    'ARGS=$(printf "%s\\n" "$@")',
    'while [ $# -gt 0 ]; do case $1 in --work-dir) WORK=$2;; --password-file) PW=$2;; esac; shift; done',
    'printf "%s\\n" "$ARGS" > "$WORK/args"',
    'cat "$PW" > "$WORK/password-seen"',
    'case "$WORK" in *sleeper*) exec sleep 600;; esac',
  ];
  await writeFile(path.join(root, 'bin', 'cl-worker'), `${standIn.join('\n')}\n`);
}, 120_000);

afterAll(async () => {
  await slurm?.stop();
});

function backend(managerName: string, clock: Clock = systemClock): SlurmWorkerBackend {
  const config: SlurmBackendConfig = {
    kind: 'slurm-batch',
    partition: slurm.partition,
    timeLimitMinutes: 10,
    jobNamePrefix: 'cltest-',
    credentialsDir: path.join(slurm.dir, `credentials-${managerName}`),
    workDirRoot: path.join(slurm.dir, 'work'),
    nodeBinary: '/bin/sh',
    codalabRoot: path.join(slurm.dir, 'codalab'),
  };
  return new SlurmWorkerBackend(config, managerName, client, clock);
}

function launch(id: string): WorkerLaunch {
  return { id, shape: { cpus: 1, gpus: 0, memoryBytes: 64 * 2 ** 20 }, args: ['--id', id], credentials: { username: 'codalab', password: 'pa ss' } };
}

async function jobOf(b: SlurmWorkerBackend, id: string): Promise<BackendJob | undefined> {
  return (await b.listJobs()).find((job) => job.id === id);
}

describe('SlurmWorkerBackend on a private one-node Slurm', () => {
  it('submits a job whose worker reads a password file only its owner can read', async () => {
    const b = backend('mgr-a');
    await b.startJob(launch('mgr-a-ended1'));

    const ended = await waitFor(async () => {
      const job = await jobOf(b, 'mgr-a-ended1');
      return job?.state === 'finished' ? job : undefined;
    }, HANG_DEADLINE_MS, 'the job to finish');
    expect(ended.detail).toMatch(/^Slurm job \d+ COMPLETED/);
    const workDir = path.join(slurm.dir, 'work', 'mgr-a-ended1');
    expect(await readFile(path.join(workDir, 'password-seen'), 'utf8')).toBe('codalab\npa ss\n');
    expect((await readFile(path.join(workDir, 'args'), 'utf8')).split('\n')).toEqual(['--id', 'mgr-a-ended1', '--work-dir', workDir, '--password-file', b.passwordFile, '']);
    expect((await stat(b.passwordFile)).mode & 0o777).toBe(0o600);

    // Removed, it is not listed again although squeue keeps finished jobs for a while.
    await b.removeJob('mgr-a-ended1');
    expect(await jobOf(b, 'mgr-a-ended1')).toBeUndefined();
  });

  it('finds its running jobs again after a restart, not other managers’ (mgr-bb, mgr-b-x), its submit time from squeue (fake clock), and removing one cancels it', async () => {
    await backend('mgr-b').startJob(launch('mgr-b-sleeper1'));
    await backend('mgr-bb').startJob(launch('mgr-bb-sleeper1'));
    await backend('mgr-b-x').startJob(launch('mgr-b-x-sleeper1'));

    // A fake clock stuck at 0: the submit time must come from squeue, not from the clock.
    const restarted = backend('mgr-b', { now: () => 0 });
    const running = await waitFor(async () => {
      const job = await jobOf(restarted, 'mgr-b-sleeper1');
      return job?.state === 'running' ? job : undefined;
    }, HANG_DEADLINE_MS, 'the sleeping job to run');
    expect(running.createdAt).toBeGreaterThan(0);
    expect((await restarted.listJobs()).map((job) => job.id)).toEqual(['mgr-b-sleeper1']);

    await restarted.removeJob('mgr-b-sleeper1');
    expect(await jobOf(restarted, 'mgr-b-sleeper1')).toBeUndefined();
    const cancelled = await waitFor(async () => {
      const job = await jobOf(backend('mgr-b'), 'mgr-b-sleeper1');
      return job?.detail?.includes('CANCELLED') ? job : undefined;
    }, HANG_DEADLINE_MS, 'a fresh backend to see the job cancelled');
    expect(cancelled.state).toBe('finished');
    await backend('mgr-bb').removeJob('mgr-bb-sleeper1');
    await backend('mgr-b-x').removeJob('mgr-b-x-sleeper1');
  });
});
