import { describe, expect, it } from 'vitest';
import { bindOptionalBooleans, planRun, shellQuote, splitAtSeparator } from './run-args.js';

const deps = (plan: ReturnType<typeof planRun>): string[][] =>
  plan.dependencies.map((d) => [d.key, d.target.bundle, d.target.subpath]);

describe('planRun', () => {
  it('takes the last argument as the command and the others as dependencies', () => {
    const plan = planRun(['in:data/x', ':code', 'date'], undefined, {});
    expect(plan.command).toBe('date');
    expect(deps(plan)).toEqual([
      ['in', 'data', 'x'],
      ['code', 'code', ''],
    ]);
    expect(plan.metadata).toEqual({ name: 'run-date' });
  });

  it('gives bare targets positional keys that do not collide with %spec% keys', () => {
    const plan = planRun(['corpus', 'code'], undefined, { name: 'x' });
    expect(plan.command).toBe('code');
    expect(deps(plan)).toEqual([['b1', 'corpus', '']]);
    const sugar = planRun(['other', 'cat %data%/a %data%/b'], undefined, {});
    expect(sugar.command).toBe('cat b1/a b1/b');
    expect(deps(sugar)).toEqual([
      ['b2', 'other', ''],
      ['b1', 'data', ''],
    ]);
  });

  it('reuses the key of a bare target also named with %spec%', () => {
    const plan = planRun(['data', 'wc %data%/x'], undefined, {});
    expect(deps(plan)).toEqual([['b1', 'data', '']]);
  });

  it('expands %key:spec% in the command', () => {
    const plan = planRun(['python %src:code%/run.py < %d:data%/in.txt'], undefined, {});
    expect(plan.command).toBe('python src/run.py < d/in.txt');
    expect(plan.metadata.name).toBe('run-python');
    expect(deps(plan)).toEqual([
      ['src', 'code', ''],
      ['d', 'data', ''],
    ]);
  });

  it('after ---, every positional is a dependency and the words are quoted', () => {
    const plan = planRun(['a:data'], ['python', 'x.py', '--msg', "it's here", '*.txt'], {});
    expect(plan.command).toBe(`python x.py --msg 'it'\\''s here' '*.txt'`);
    expect(deps(plan)).toEqual([['a', 'data', '']]);
  });

  it('refuses a missing or empty command', () => {
    expect(() => planRun([], undefined, {})).toThrow(/Missing command/);
    expect(() => planRun(['a:data'], [], {})).toThrow(/Missing command/);
    expect(() => planRun(['  '], undefined, {})).toThrow(/Missing command/);
  });

  it('refuses duplicate keys naming different targets, accepts exact repeats', () => {
    expect(() => planRun(['a:x', 'a:y', 'ls'], undefined, {})).toThrow(/Duplicate dependency key 'a'.*'x'.*'y'/);
    expect(deps(planRun(['a:x', 'a:x', 'ls'], undefined, {}))).toEqual([['a', 'x', '']]);
    expect(() => planRun(['a:x', 'a/b:y', 'ls'], undefined, {})).toThrow(/inside dependency key 'a'/);
  });

  it('converts request flags into typed metadata', () => {
    const plan = planRun(['date'], undefined, {
      name: 'my-run',
      description: 'd',
      tags: ['t1', 't2'],
      requestDockerImage: 'busybox:latest',
      requestMemory: '1.5g',
      requestDisk: '10k',
      requestTime: '5m',
      requestCpus: '2',
      requestGpus: '0',
      requestQueue: 'tag=gpu',
      requestPriority: '-3',
      requestNetwork: 'false',
      excludePatterns: ['*.tmp'],
    });
    expect(plan.metadata).toEqual({
      name: 'my-run',
      description: 'd',
      tags: ['t1', 't2'],
      request_docker_image: 'busybox:latest',
      request_memory: 1610612736,
      request_disk: 10240,
      request_time: 300,
      request_cpus: 2,
      request_gpus: 0,
      request_queue: 'gpu',
      request_priority: -3,
      request_network: false,
      exclude_patterns: ['*.tmp'],
    });
  });

  it('stores --allow-failed-dependencies as allow_failed_dependencies only when given', () => {
    expect(planRun(['date'], undefined, { allowFailedDependencies: true }).metadata.allow_failed_dependencies).toBe(true);
    expect(planRun(['date'], undefined, {}).metadata).not.toHaveProperty('allow_failed_dependencies');
  });

  it('accepts queue names with underscores, as CodaLab does, and names the allowed set when refusing one', () => {
    expect(planRun(['date'], undefined, { requestQueue: 'tag=unique_worker_tag' }).metadata.request_queue).toBe('unique_worker_tag');
    expect(planRun(['date'], undefined, { requestQueue: 'gpu_big-2' }).metadata.request_queue).toBe('gpu_big-2');
    expect(() => planRun(['date'], undefined, { requestQueue: 'tag=' })).toThrow(
      "Invalid value for --request-queue '': use 1 to 100 letters, digits, underscores (_) and hyphens (-).",
    );
    expect(() => planRun(['date'], undefined, { requestQueue: 'a b' })).toThrow(/--request-queue 'a b': use 1 to 100 letters/);
  });

  it('rejects malformed request values and names with a message', () => {
    expect(() => planRun(['date'], undefined, { requestMemory: 'lots' })).toThrow(/Invalid size 'lots'/);
    expect(() => planRun(['date'], undefined, { requestTime: '5min' })).toThrow(/Invalid duration '5min'/);
    expect(() => planRun(['date'], undefined, { requestCpus: '0' })).toThrow(/--request-cpus '0'/);
    expect(() => planRun(['date'], undefined, { requestGpus: '1.5' })).toThrow(/--request-gpus/);
    expect(() => planRun(['date'], undefined, { requestNetwork: 'maybe' })).toThrow(/--request-network 'maybe'/);
    expect(() => planRun(['date'], undefined, { requestQueue: 'tag=' })).toThrow(/--request-queue/);
    expect(() => planRun(['date'], undefined, { name: 'bad name' })).toThrow(/Invalid bundle name/);
    expect(() => planRun(['a b:data', 'date'], undefined, {})).toThrow(/Invalid dependency key/);
  });
});

describe('argv preparation', () => {
  it('splits at the first ---', () => {
    expect(splitAtSeparator(['run', 'a:b', '---', 'echo', '---', '-n'])).toEqual({
      options: ['run', 'a:b'],
      commandWords: ['echo', '---', '-n'],
    });
    expect(splitAtSeparator(['run', 'date']).commandWords).toBeUndefined();
  });

  it('binds a bare --request-network to true without eating the command', () => {
    expect(bindOptionalBooleans(['run', '--request-network', 'curl x'], ['--request-network'])).toEqual([
      'run',
      '--request-network=true',
      'curl x',
    ]);
    expect(bindOptionalBooleans(['run', '--request-network', 'false', 'date'], ['--request-network'])).toEqual([
      'run',
      '--request-network',
      'false',
      'date',
    ]);
    expect(bindOptionalBooleans(['run', 'date', '--request-network'], ['--request-network'])).toEqual([
      'run',
      'date',
      '--request-network=true',
    ]);
  });

  it('quotes only words that need it', () => {
    expect(shellQuote('plain-word_1.txt')).toBe('plain-word_1.txt');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
  });
});
