// The Slurm adapter against a real one-node Slurm (test/support/slurm.ts): sbatch, squeue and
// scancel as the slurm-batch worker manager will use them.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateSlurm, type PrivateSlurm } from '../../../test/support/slurm.js';
import { HANG_DEADLINE_MS, waitFor } from '../../../test/support/wait-for.js';
import { SlurmBatchClient } from './slurm-batch-client.js';
import { SlurmCommandError } from './slurm-command.js';
import type { SlurmJobSpec } from './slurm-job-spec.js';
import { isActiveSlurmState, type SlurmJob } from './squeue-jobs.js';

const PREFIX = 'cltest-w-';
let slurm: PrivateSlurm;
let client: SlurmBatchClient;

beforeAll(async () => {
  slurm = await startPrivateSlurm({ gpus: 1 });
  client = new SlurmBatchClient({ env: slurm.env });
});

afterAll(async () => {
  await slurm?.stop();
});

function spec(id: string, command: string[], overrides: Partial<SlurmJobSpec> = {}): SlurmJobSpec {
  return {
    namePrefix: PREFIX,
    id,
    partition: slurm.partition,
    cpus: 1,
    memoryBytes: 64 * 2 ** 20,
    gpus: 0,
    timeLimitMinutes: 10,
    outputPath: path.join(slurm.dir, `${id}-%j.out`),
    command,
    ...overrides,
  };
}

async function jobOf(jobId: string, prefix = PREFIX): Promise<SlurmJob | undefined> {
  return (await client.list(prefix)).find((job) => job.jobId === jobId);
}

/** Waits until Slurm has the job in a final state (or has forgotten it); returns that state. */
async function waitForEnd(jobId: string): Promise<string> {
  return waitFor(
    async () => {
      const job = await jobOf(jobId);
      if (job === undefined) return 'GONE';
      return isActiveSlurmState(job.state) ? undefined : job.state;
    },
    HANG_DEADLINE_MS,
    `Slurm job ${jobId} to end`,
  );
}

describe('SlurmBatchClient on a private one-node Slurm', () => {
  it('runs a cl-worker command line (stand-in script) that reads its password file, and the job ends', async () => {
    const recorder = path.join(slurm.dir, 'cl-worker-stand-in');
    await writeFile(recorder, '#!/bin/sh\nout=$1; shift\nprintf "%s\\n" "$@" > "$out"\ncat "$4" >> "$out"\n');
    await chmod(recorder, 0o755);
    const passwordFile = path.join(slurm.dir, 'worker password');
    await writeFile(passwordFile, 'codalab\nsecret\n', { mode: 0o600 });
    const recorded = path.join(slurm.dir, 'recorded.txt');
    // Arguments a shell would mangle: quotes, $, backquotes, spaces, an empty one.
    const odd = [`it's "quoted" $HOME \`id\``, '', 'a;b|c'];
    const args = ['--server', 'http://127.0.0.1:2900', '--password-file', passwordFile, '--tag', ...odd];

    const jobId = await client.submit(spec('write', [recorder, recorded, ...args]));

    expect(await waitForEnd(jobId)).toBe('COMPLETED');
    expect(await readFile(recorded, 'utf8')).toBe(
      ['--server', 'http://127.0.0.1:2900', '--password-file', passwordFile, '--tag', ...odd].join('\n') + '\ncodalab\nsecret\n',
    );
  });

  it('asks for GPUs through --gres, and the job sees them', async () => {
    const seen = path.join(slurm.dir, 'gpus.txt');
    const jobId = await client.submit(spec('gpu', ['sh', '-c', 'printf %s "$CUDA_VISIBLE_DEVICES" > "$1"', 'sh', seen], { gpus: 1 }));
    expect(await waitForEnd(jobId)).toBe('COMPLETED');
    expect(await readFile(seen, 'utf8')).toBe('0');
  });

  it('lists a long job under our prefix and not under another, and cancel ends it', async () => {
    const ours = await client.submit(spec('long', ['sleep', '600']));
    const theirs = await client.submit(spec('long', ['sleep', '600'], { namePrefix: 'someone-else-' }));

    const listed = await waitFor(async () => jobOf(ours), HANG_DEADLINE_MS, 'our job to be listed');
    expect(listed.name).toBe(`${PREFIX}long`);
    expect(['PENDING', 'RUNNING']).toContain(listed.state);
    expect((await client.list(PREFIX)).map((job) => job.jobId)).not.toContain(theirs);
    expect(await jobOf(theirs, 'someone-else-')).toBeDefined();

    await client.cancel(ours);
    await client.cancel(theirs);
    expect(await waitForEnd(ours)).toBe('CANCELLED');
    await client.cancel(ours); // cancelling an ended job is not an error
  });

  it('refuses an unknown partition with one line naming it', async () => {
    const submitted = client.submit(spec('bad', ['true'], { partition: 'no-such-partition' }));
    await expect(submitted).rejects.toThrow(SlurmCommandError);
    const error = (await submitted.catch((e: unknown) => e)) as SlurmCommandError;
    expect(error.message).toContain('no-such-partition');
    expect(error.message).not.toContain('\n');
    expect(error.code).toBe('SLURM_REFUSED');
  });

  it('refuses more GPUs than the node has with one line', async () => {
    const error = (await client.submit(spec('toomany', ['true'], { gpus: 4 })).catch((e: unknown) => e)) as SlurmCommandError;
    expect(error).toBeInstanceOf(SlurmCommandError);
    expect(error.message).toMatch(/^sbatch failed \(exit 1\): .*node configuration is not available/);
    expect(error.message).not.toContain('\n');
  });
});
