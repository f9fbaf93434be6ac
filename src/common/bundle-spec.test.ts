import { describe, expect, it } from 'vitest';
import { expandCommandDependencies, parseBundleSpec, parseDependencyArg, parseTarget } from './bundle-spec.js';
import { defaultRunName, toDefaultName } from './names.js';

const uuid = `0x${'ab'.repeat(16)}`;

describe('parseBundleSpec', () => {
  it('recognises each form', () => {
    expect(parseBundleSpec(uuid)).toEqual({ kind: 'uuid', uuid });
    expect(parseBundleSpec('0x7f3')).toEqual({ kind: 'prefix', prefix: '0x7f3' });
    expect(parseBundleSpec('data')).toEqual({ kind: 'name', pattern: 'data', index: 1 });
    expect(parseBundleSpec('data^3')).toEqual({ kind: 'name', pattern: 'data', index: 3 });
    expect(parseBundleSpec('^')).toEqual({ kind: 'index', index: 1 });
    expect(parseBundleSpec('^2')).toEqual({ kind: 'index', index: 2 });
  });

  it('rejects malformed specs with a message', () => {
    expect(() => parseBundleSpec('a b')).toThrow(/Invalid bundle spec 'a b'/);
    expect(() => parseBundleSpec('^0')).toThrow(/starts at 1/);
  });
});

describe('parseTarget', () => {
  it('splits worksheet, bundle and sub-path', () => {
    expect(parseTarget('ws//run^2/out/x.txt')).toEqual({ worksheet: 'ws', bundle: 'run^2', subpath: 'out/x.txt' });
    expect(parseTarget('^1/stdout')).toEqual({ worksheet: null, bundle: '^1', subpath: 'stdout' });
    expect(parseTarget('data')).toEqual({ worksheet: null, bundle: 'data', subpath: '' });
  });

  it('refuses paths that climb out of the bundle', () => {
    expect(() => parseTarget('data/../x')).toThrow(/'\.\.' is not allowed/);
  });
});

describe('parseDependencyArg', () => {
  it('takes the key before the colon, or derives it', () => {
    expect(parseDependencyArg('in:data/x')?.key).toBe('in');
    expect(parseDependencyArg(':data')?.key).toBe('data');
    expect(parseDependencyArg(':data/x/y.txt')?.key).toBe('x/y.txt');
    expect(parseDependencyArg('echo hi')).toBeNull();
  });

  it('keeps the key . exactly, and refuses keys that leave the run directory', () => {
    expect(parseDependencyArg('.:data')?.key).toBe('.');
    expect(parseDependencyArg('./a:data')?.key).toBe('a');
    expect(() => parseDependencyArg('..:data')).toThrow(/'\.\.' is not allowed/);
    expect(() => parseDependencyArg('./x/..:data')).toThrow(/'\.\.' is not allowed/);
    expect(() => parseDependencyArg('/abs:data')).toThrow(/absolute paths are not allowed/);
  });
});

describe('expandCommandDependencies', () => {
  it('replaces %target% with keys and collects dependencies', () => {
    const { command, dependencies } = expandCommandDependencies('python %code%/sort.py < %d:data%/lines.txt %code%');
    expect(command).toBe('python b1/sort.py < d/lines.txt b1');
    expect(dependencies.map((d) => [d.key, d.target.bundle])).toEqual([
      ['b1', 'code'],
      ['d', 'data'],
    ]);
  });

  it('keeps %% as a literal percent sign', () => {
    expect(expandCommandDependencies('date +%%Y').command).toBe('date +%Y');
  });
});

describe('default names', () => {
  it('names runs after their first word', () => {
    expect(defaultRunName('python train.py')).toBe('run-python');
    expect(toDefaultName('9 lives!')).toBe('_9-lives');
  });
});
