import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchScript, quoteForShell } from './batch-script.js';
import { sbatchArgs, slurmJobName } from './slurm-job-spec.js';

describe('batch script', () => {
  it('passes every argument to sh unchanged, whatever it holds', () => {
    const args = [`it's`, '$HOME', '`id`', '"x"', '', 'a b\nc', '\\'];
    const printed = execFileSync('sh', ['-c', `printf '%s\\0' ${args.map(quoteForShell).join(' ')}`], { encoding: 'utf8' });
    expect(printed.split('\0').slice(0, -1)).toEqual(args);
  });

  it('execs the command, so scancel signals reach it', () => {
    expect(batchScript(['cl-worker', '--tag', 'a b'])).toBe(`#!/bin/sh\nexec 'cl-worker' '--tag' 'a b'\n`);
  });

  it('builds the sbatch flags from a spec', () => {
    const spec = {
      namePrefix: 'cl-',
      id: 'w1',
      partition: 'gpu',
      cpus: 4,
      memoryBytes: 1.5 * 2 ** 30 + 1,
      gpus: 2,
      timeLimitMinutes: 60,
      outputPath: '/logs/%j.out',
      command: ['true'],
    };
    expect(sbatchArgs(spec)).toEqual([
      '--parsable',
      '--job-name=cl-w1',
      '--cpus-per-task=4',
      '--mem=1537M',
      '--output=/logs/%j.out',
      '--partition=gpu',
      '--gres=gpu:2',
      '--time=60',
    ]);
  });

  it('refuses a job name that list() could not match by prefix', () => {
    expect(() => slurmJobName('cl worker', '1')).toThrow(`Slurm job name prefix "cl worker" may hold only`);
  });
});
