// The bounds on non-final states as pure decisions, replayed on a fake clock (plain numbers).
import { describe, expect, it } from 'vitest';
import { decideRunBounds, decideUploadBound, restagedRun, withRestageNote, type BoundedRun, type StateBoundsOptions } from './state-bounds.js';

const OPTIONS: StateBoundsOptions = {
  workerTimeoutSeconds: 30,
  workerLeaseSeconds: 1800,
  startingTimeoutSeconds: 120,
  preparingTimeoutSeconds: 6 * 3600,
  finalizingTimeoutSeconds: 6 * 3600,
};
const T0 = 1_000_000_000;
const S = 1000;

function run(overrides: Partial<BoundedRun>): BoundedRun {
  return { state: 'running', state_since: T0, last_updated: T0, worker_id: 'w1', metadata: {}, ...overrides };
}

describe('decideRunBounds (fake clock)', () => {
  it('keeps a run whose worker checks in', () => {
    expect(decideRunBounds(run({}), T0 + 100 * S, T0 + 110 * S, OPTIONS)).toEqual({ kind: 'keep' });
  });

  it('stages a starting run again when its worker goes silent or does not start it in time, saying why', () => {
    const starting = run({ state: 'starting' });
    expect(decideRunBounds(starting, T0, T0 + 31 * S, OPTIONS)).toEqual({
      kind: 'restage',
      staged_status: 'Worker w1 went offline before starting this run; staged again.',
    });
    expect(decideRunBounds(starting, T0 + 120 * S, T0 + 121 * S, OPTIONS)).toEqual({
      kind: 'restage',
      staged_status: 'Worker w1 did not start the run within 2m; staged again.',
    });
    expect(decideRunBounds(starting, T0 + 100 * S, T0 + 110 * S, OPTIONS)).toEqual({ kind: 'keep' });
  });

  it('marks a run of a silent worker worker_offline with how long ago it was heard', () => {
    expect(decideRunBounds(run({}), T0, T0 + 45 * S, OPTIONS)).toEqual({
      kind: 'offline',
      run_status: 'Worker w1 stopped checking in; last heard 45s ago.',
    });
  });

  it('refreshes the status of a worker_offline run only when the figure shown changes', () => {
    const offline = run({ state: 'worker_offline', metadata: { run_status: 'Worker w1 stopped checking in; last heard 3m ago.' } });
    expect(decideRunBounds(offline, T0, T0 + 200 * S, OPTIONS)).toEqual({ kind: 'keep' });
    expect(decideRunBounds(offline, T0, T0 + 240 * S, OPTIONS)).toEqual({
      kind: 'offline',
      run_status: 'Worker w1 stopped checking in; last heard 4m ago.',
    });
  });

  it('fails a worker_offline run once its worker is silent past the lease', () => {
    const offline = run({ state: 'worker_offline' });
    expect(decideRunBounds(offline, T0, T0 + 1800 * S, OPTIONS).kind).toBe('offline');
    expect(decideRunBounds(offline, T0, T0 + 1801 * S, OPTIONS)).toEqual({
      kind: 'fail',
      failure_message: 'Worker w1 was last heard 30m ago; the run was given up after the lease of 30m (--worker-lease-seconds).',
    });
  });

  it('keeps a worker_offline run whose worker is back: its report or the reconcile settles it', () => {
    expect(decideRunBounds(run({ state: 'worker_offline' }), T0 + 3000 * S, T0 + 3001 * S, OPTIONS)).toEqual({ kind: 'keep' });
  });

  it('fails a run stuck in preparing or finalizing, counted from when it entered the state', () => {
    const since = T0 - 7 * 3600 * S;
    expect(decideRunBounds(run({ state: 'preparing', state_since: since }), T0, T0, OPTIONS)).toEqual({
      kind: 'fail',
      failure_message: 'Stuck in preparing for 6h (--preparing-timeout-seconds); the worker was told to stop it.',
    });
    expect(decideRunBounds(run({ state: 'finalizing', state_since: since }), T0, T0, OPTIONS)).toEqual({
      kind: 'fail',
      failure_message: 'Stuck in finalizing for 6h (--finalizing-timeout-seconds); the worker was told to stop it.',
    });
    // A long-running run is not stuck: time limits are the worker's business.
    expect(decideRunBounds(run({ state: 'running', state_since: since }), T0, T0, OPTIONS)).toEqual({ kind: 'keep' });
  });
});

describe('decideUploadBound (fake clock)', () => {
  it('fails an upload that did not arrive in time, never one in progress', () => {
    expect(decideUploadBound(T0, false, T0 + 600 * S, 600)).toBeNull();
    expect(decideUploadBound(T0, false, T0 + 601 * S, 600)).toBe('No upload arrived within 10m; upload it again.');
    expect(decideUploadBound(T0, true, T0 + 6000 * S, 600)).toBeNull();
  });
});

describe('restagedRun', () => {
  it('clears the worker, the assignment and what the worker reported', () => {
    expect(restagedRun('why', false, T0)).toEqual({
      state: 'staged',
      worker_owner_id: null,
      worker_id: null,
      assignment_id: null,
      last_updated: T0,
      metadata: { run_status: null, started: null, remote: null, docker_image: null, staged_status: 'why' },
    });
  });

  it('kills a run whose kill was requested instead of running it again', () => {
    expect(restagedRun('why', true, T0)).toMatchObject({ state: 'killed', metadata: { failure_message: 'Kill requested' } });
  });
});

describe('withRestageNote', () => {
  it('keeps why a run was staged again in front of the reason it waits', () => {
    const note = 'Worker w1 restarted before starting this run; staged again.';
    expect(withRestageNote(note, 'No worker is connected.')).toBe(`${note} No worker is connected.`);
    expect(withRestageNote(`${note} No worker is connected.`, 'Waiting for a worker.')).toBe(`${note} Waiting for a worker.`);
    expect(withRestageNote('No worker is connected.', 'Waiting for a worker.')).toBe('Waiting for a worker.');
    expect(withRestageNote(null, 'Waiting for a worker.')).toBe('Waiting for a worker.');
  });
});
