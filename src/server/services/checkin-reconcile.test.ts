// The reconcile rule as a pure decision, on a fake clock (plain numbers).
import { describe, expect, it } from 'vitest';
import { decideMissingRun, RECONCILE_GRACE_MS } from './checkin-reconcile.js';

const T0 = 1_000_000_000;

describe('decideMissingRun (fake clock)', () => {
  it('waits while the run changed within the grace period', () => {
    expect(decideMissingRun({ state: 'running', last_updated: T0, metadata: {} }, 'w1', T0 + RECONCILE_GRACE_MS - 1)).toEqual({ kind: 'wait' });
  });

  it('stages again a run whose container never started', () => {
    const later = T0 + RECONCILE_GRACE_MS;
    const staged = { kind: 'restage', staged_status: 'Worker w1 restarted before starting this run; staged again.' };
    expect(decideMissingRun({ state: 'preparing', last_updated: T0, metadata: {} }, 'w1', later)).toEqual(staged);
    expect(decideMissingRun({ state: 'worker_offline', last_updated: T0, metadata: {} }, 'w1', later)).toEqual(staged);
  });

  it('fails a run whose container had started', () => {
    const later = T0 + RECONCILE_GRACE_MS;
    const failed = { kind: 'fail', failure_message: 'Worker w1 restarted and no longer has this run.' };
    expect(decideMissingRun({ state: 'running', last_updated: T0, metadata: {} }, 'w1', later)).toEqual(failed);
    expect(decideMissingRun({ state: 'worker_offline', last_updated: T0, metadata: { docker_image: 'img@sha256:1' } }, 'w1', later)).toEqual(failed);
  });
});
