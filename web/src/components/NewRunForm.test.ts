import { describe, expect, it } from 'vitest';
import { planWebRun } from './NewRunForm.js';

const uuid = (n: number) => `0x${String(n).padStart(32, '0')}`;

describe('a run planned by the page', () => {
  it('names dependencies by key and parses requests as cl run does', () => {
    const request = planWebRun('cat in/x', '', [{ uuid: uuid(1), key: 'in' }], { requestMemory: '1g', requestCpus: '2', requestQueue: 'tag=gpu' }, false);
    expect(request.dependencies).toEqual([{ child_path: 'in', parent_uuid: uuid(1), parent_path: '' }]);
    expect(request.metadata).toMatchObject({ name: 'run-cat', request_memory: 1024 ** 3, request_cpus: 2, request_queue: 'gpu' });
    expect(request.metadata).not.toHaveProperty('request_network');
    expect(planWebRun('x', '', [], {}, true).metadata).toMatchObject({ request_network: true });
  });

  it('refuses what cl run refuses, in its words', () => {
    expect(() => planWebRun('', '', [], {}, false)).toThrow('Enter the command to run.');
    expect(() => planWebRun('x', '', [], { requestCpus: '0' }, false)).toThrow('--request-cpus');
    expect(() => planWebRun('x', '', [], { requestMemory: 'lots' }, false)).toThrow("Memory: Invalid size 'lots'");
    expect(() => planWebRun('x', '', [{ uuid: uuid(1), key: 'a' }, { uuid: uuid(2), key: 'a' }], {}, false)).toThrow("Duplicate dependency key 'a'");
  });
});
