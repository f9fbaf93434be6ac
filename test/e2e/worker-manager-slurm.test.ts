// End-to-end: `cl-worker-manager slurm-batch` against a real cl-server and a private one-node
// Slurm. A staged run that no worker can take makes the manager sbatch a cl-worker job; the
// worker Slurm launched runs it to ready, exits when idle, the job ends, and the manager counts
// it gone without submitting another job for the same run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SlurmBatchClient } from '../../src/managers/slurm/slurm-batch-client.js';
import { startPrivateSlurm, type PrivateSlurm } from '../support/slurm.js';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

/** Unique per test run, so that only this test's jobs are looked at. */
const MANAGER_NAME = `e2e-slurm-${process.pid}`;
const PREFIX = 'cltest.';

let cluster: Cluster;
let slurm: PrivateSlurm;
let client: SlurmBatchClient;

function managerLog(): string {
  try {
    return readFileSync(join(cluster.root, 'worker-manager-slurm-batch.log'), 'utf8');
  } catch {
    return '';
  }
}

async function ourJobs(): Promise<{ jobId: string; name: string; state: string }[]> {
  return client.list(`${PREFIX}${MANAGER_NAME}-`);
}

beforeAll(async () => {
  slurm = await startPrivateSlurm();
  client = new SlurmBatchClient({ env: slurm.env });
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  await cluster.clOk(['work', `${cluster.url}::`]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await slurm?.stop();
});

it('submits a Slurm job for a staged run; its worker runs it, exits when idle, and the job ends', async () => {
  const uuid = await cluster.clOk(['run', 'echo slurm-managed']);
  await waitFor(
    async () => ((await cluster.clOk(['info', '-f', 'staged_status', uuid])).includes('No worker') ? true : undefined),
    60_000,
    'the scheduler to say no worker can take the run',
  );
  const workDir = join(cluster.root, 'manager-scratch');
  const credentialsDir = join(cluster.root, 'manager-credentials');
  cluster.startWorkerManager(
    'slurm-batch',
    [
      '--name', MANAGER_NAME,
      '--job-name-prefix', PREFIX,
      '--partition', slurm.partition,
      '--time-limit', '0-00:30:00',
      '--sleep-time', '1',
      '--worker-idle-seconds', '2',
      '--max-workers', '1',
      '--memory', '512m',
      '--work-dir', workDir,
      '--credentials-dir', credentialsDir,
    ],
    { SLURM_CONF: slurm.env['SLURM_CONF'] ?? '' },
  );
  const job = await waitFor(async () => (await ourJobs())[0], 60_000, 'the manager to submit a Slurm job');
  const workerId = job.name.slice(PREFIX.length);

  expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, `${cluster.describeLogs()}\n${managerLog()}`).toBe(0);
  expect(await cluster.clOk(['info', '-f', 'state', uuid])).toBe('ready');
  expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('slurm-managed');
  // The run went to the worker this Slurm job launched: its log, in the job's output, names the run.
  expect(await cluster.clOk(['info', '-f', 'remote', uuid])).toBe(os.hostname());
  const jobOutput = readFileSync(join(workDir, workerId, `slurm-${job.jobId}.out`), 'utf8');
  expect(jobOutput).toContain(uuid);
  // The credentials reached the job as a file only its owner can read.
  expect(statSync(join(credentialsDir, 'password')).mode & 0o777).toBe(0o600);

  await waitFor(
    async () => {
      const state = (await ourJobs()).find((j) => j.jobId === job.jobId)?.state ?? 'GONE';
      return ['COMPLETED', 'GONE'].includes(state) && managerLog().includes('worker ended') ? state : undefined;
    },
    90_000,
    'the idle worker to exit, its Slurm job to end and the manager to count it gone',
  );
  // One job for the one run: none was submitted after the first ended.
  expect(managerLog().match(/starting a worker/g), managerLog()).toHaveLength(1);
  expect((await ourJobs()).filter((j) => j.jobId !== job.jobId)).toEqual([]);
  expect(readdirSync(workDir)).toEqual([workerId]);
}, 300_000);
