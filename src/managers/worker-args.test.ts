// The cl-worker command line of managed workers: queue, GPUs, idle exit and run count.
import { describe, expect, it } from 'vitest';
import { workerArgs } from './worker-args.js';

const options = { serverUrl: 'http://codalab:2900', queue: null, idleSeconds: 60, exitAfterNumRuns: null };

describe('workerArgs', () => {
  it('gives a worker for runs an idle exit and no GPU probing when it has no GPUs', () => {
    const args = workerArgs('w-1', { shape: { cpus: 1, gpus: 0, memoryBytes: 1024 }, exitWhenIdle: true, reason: 'run' }, options);
    expect(args).toEqual(['--server', 'http://codalab:2900', '--id', 'w-1', '--max-memory', '1024', '--pass-down-termination', '--gpuset', 'NONE', '--exit-when-idle', '--idle-seconds', '60']);
  });

  it('makes a --min-workers worker with GPUs stay up, serve only its queue and stop after N runs', () => {
    const args = workerArgs('w-2', { shape: { cpus: 2, gpus: 1, memoryBytes: 2048 }, exitWhenIdle: false, reason: 'floor' }, { ...options, queue: 'gpu', exitAfterNumRuns: 3 });
    expect(args).toEqual(['--server', 'http://codalab:2900', '--id', 'w-2', '--max-memory', '2048', '--pass-down-termination', '--tag', 'gpu', '--tag-exclusive', '--exit-after-num-runs', '3']);
  });
});
