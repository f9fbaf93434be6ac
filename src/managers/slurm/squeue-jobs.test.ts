import { describe, expect, it } from 'vitest';
import { isActiveSlurmState, parseSqueueFormat, parseSqueueJson } from './squeue-jobs.js';

describe('squeue output', () => {
  it('reads job_state as a string (22.05) and as a list (23.02 and later)', () => {
    const text = JSON.stringify({
      jobs: [
        { job_id: 7, name: 'cl-a', job_state: 'RUNNING', state_reason: 'None', submit_time: 1700000000 },
        { job_id: 8, name: 'cl-b', job_state: ['PENDING'], state_reason: 'Resources', submit_time: { set: true, infinite: false, number: 1700000001 } },
      ],
    });
    expect(parseSqueueJson(text)).toEqual([
      { jobId: '7', name: 'cl-a', state: 'RUNNING', reason: 'None', submittedAt: 1_700_000_000_000 },
      { jobId: '8', name: 'cl-b', state: 'PENDING', reason: 'Resources', submittedAt: 1_700_000_001_000 },
    ]);
  });

  it('reads the plain format, keeping a | inside a job name', () => {
    expect(parseSqueueFormat('12|COMPLETED|None|2026-12-02T01:28:46|cl-x\n13|PENDING|Priority|N/A|odd|name\n')).toEqual([
      { jobId: '12', state: 'COMPLETED', reason: 'None', submittedAt: new Date(2026, 11, 2, 1, 28, 46).getTime(), name: 'cl-x' },
      { jobId: '13', state: 'PENDING', reason: 'Priority', submittedAt: null, name: 'odd|name' },
    ]);
  });

  it('refuses JSON without a jobs list', () => {
    expect(() => parseSqueueJson('{"errors":[]}')).toThrow('no "jobs" list');
  });

  it('tells waiting and running states from final ones', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING'].every(isActiveSlurmState)).toBe(true);
    expect(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL'].some(isActiveSlurmState)).toBe(false);
  });
});
