import { describe, expect, it } from 'vitest';
import type { RunSpec } from '../../protocol/index.js';
import { EXIT_REPORT_SCRIPT } from '../docker/exit-report.js';
import { planContainer, safeChildPath, wrapCommand } from './container-plan.js';

const uuid = '0x' + 'b'.repeat(32);
const run: RunSpec = {
  uuid,
  command: 'python train.py # comment',
  owner_id: '1',
  dependencies: [],
  resources: { docker_image: 'img:1', cpus: 2, gpus: 0, memory: 1024, disk: 0, time: 0, network: false },
  exclude_patterns: [],
};
const ctx = { workerId: 'w1', runDir: '/work/runs/x', user: '65534:65534', cpuset: [], imageRef: 'img:1', logMaxBytes: 1 << 20 };

describe('container plan', () => {
  it('wraps the command so stdout and stderr become files, even after a trailing comment', () => {
    expect(wrapCommand('echo hi # c')).toEqual(['/bin/bash', '-c', `( echo hi # c\n) >stdout 2>stderr; ${EXIT_REPORT_SCRIPT}`]);
  });

  it('binds the run dir read-write at /<uuid> and dependencies read-only under it', () => {
    const plan = planContainer(
      run,
      [
        { childPath: 'data', hostPath: '/cache/d', isDirectory: true },
        { childPath: './cfg/in.txt', hostPath: '/cache/f', isDirectory: false },
        { childPath: '.', hostPath: '/cache/spread', isDirectory: true, entries: [{ name: 'x', isDirectory: false }] },
      ],
      ctx,
    );
    expect(plan.spec).toMatchObject({
      workingDir: `/${uuid}`,
      env: { HOME: `/${uuid}`, CODALAB: 'true' },
      user: '65534:65534',
      memoryBytes: 1024,
      cpus: 2,
      network: false,
      labels: { 'org.codalab.run': uuid, 'org.codalab.worker': 'w1', 'org.codalab.work-dir': '/work/runs' },
    });
    expect(plan.spec.mounts).toEqual([
      { source: '/work/runs/x', target: `/${uuid}`, readOnly: false },
      { source: '/cache/d', target: `/${uuid}/data`, readOnly: true },
      { source: '/cache/f', target: `/${uuid}/cfg/in.txt`, readOnly: true },
      { source: '/cache/spread/x', target: `/${uuid}/x`, readOnly: true },
    ]);
    expect(plan.mountPoints).toEqual([
      { path: 'data', isDirectory: true },
      { path: 'cfg/in.txt', isDirectory: false },
      { path: 'x', isDirectory: false },
    ]);
  });

  it('refuses dependency paths that escape the run dir or collide', () => {
    expect(() => safeChildPath('../etc')).toThrow(/must stay inside/);
    expect(() => safeChildPath('/etc')).toThrow(/must stay inside/);
    expect(() => safeChildPath('a/../../b')).toThrow(/must stay inside/);
    const dup = [
      { childPath: 'a', hostPath: '/1', isDirectory: true },
      { childPath: './a', hostPath: '/2', isDirectory: true },
    ];
    expect(() => planContainer(run, dup, ctx)).toThrow(/Two dependencies are mounted at 'a'/);
    expect(() => planContainer(run, [{ childPath: 'stdout', hostPath: '/1', isDirectory: false }], ctx)).toThrow(/cannot be named 'stdout'/);
  });
});
