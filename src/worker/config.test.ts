import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../common/usage-error.js';
import { parseWorkerArgs, type WorkerConfig } from './config.js';
import { checkPasswordFileMode } from '../common/credentials.js';
import { parseCpuset, parseGpuset } from './flag-values.js';

const host = { cwd: '/home/u', hostname: 'box', cpuCount: 4 };
const env = { CODALAB_USERNAME: 'alice', CODALAB_PASSWORD: 'secret' };
const dir = mkdtempSync(path.join(os.tmpdir(), 'cl-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(argv: string[], e: Record<string, string | undefined> = env): WorkerConfig {
  const parsed = parseWorkerArgs(argv, e, host);
  if (parsed.kind !== 'config') throw new Error('expected a config');
  return parsed.config;
}

describe('worker flags', () => {
  it('has the documented defaults and a frozen config', () => {
    const c = parse([]);
    expect(c).toMatchObject({
      serverUrl: 'http://127.0.0.1:2900',
      username: 'alice',
      password: 'secret',
      workDir: '/home/u/codalab-worker-scratch',
      id: null,
      tag: null,
      slots: 4,
      cpuset: null,
      gpuset: null,
      maxMemoryBytes: null,
      maxWorkDirSizeBytes: null,
      checkinFrequencySeconds: 5,
      exitWhenIdle: false,
      exitAfterNumRuns: null,
      dockerSocket: '/var/run/docker.sock',
      runNetwork: 'codalab-runs',
      verbose: false,
      logFormat: 'text',
      hostname: 'box',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('runs one bundle per usable CPU unless --slots says otherwise', () => {
    expect(parse([]).slots).toBe(host.cpuCount);
    expect(parse(['--cpuset', '1-2']).slots).toBe(2);
    expect(parse(['--cpuset', '0', '--slots', '3']).slots).toBe(3);
  });

  it("accepts the seed's --tag unique_worker_tag", () => {
    expect(parse(['--tag', 'unique_worker_tag']).tag).toBe('unique_worker_tag');
  });

  it('parses every flag', () => {
    const c = parse([
      '--server', 'https://cl.example.org/rest/', '--work-dir', '/w', '--id', 'gpu-1', '--tag', 'big-gpu', '--tag-exclusive',
      '--slots', '3', '--cpuset', '0,2-3', '--gpuset', '0,1', '--max-memory', '1.5g', '--max-work-dir-size', '20g',
      '--max-image-cache-size', '50g', '--checkin-frequency-seconds', '2', '--exit-when-idle', '--idle-seconds', '60',
      '--exit-after-num-runs', '1', '--docker-socket', '/run/d.sock', '--verbose', '--log-format', 'json',
      '--shared-memory-size-gb', '0.5', '--pids-limit', '100', '--disk-reserve', '2g', '--run-network', 'bridge',
      '--pull-policy', 'always',
    ]);
    expect(c).toMatchObject({
      serverUrl: 'https://cl.example.org', workDir: '/w', id: 'gpu-1', tag: 'big-gpu', tagExclusive: true, slots: 3,
      cpuset: [0, 2, 3], gpuset: ['0', '1'], maxMemoryBytes: 1.5 * 1024 ** 3, maxWorkDirSizeBytes: 20 * 1024 ** 3,
      maxImageCacheSizeBytes: 50 * 1024 ** 3, checkinFrequencySeconds: 2, exitWhenIdle: true, idleSeconds: 60,
      exitAfterNumRuns: 1, dockerSocket: '/run/d.sock', verbose: true, logFormat: 'json',
      sharedMemoryBytes: 512 * 1024 ** 2, pidsLimit: 100, diskReserveBytes: 2 * 1024 ** 3, runNetwork: 'bridge',
      pullPolicy: 'always',
    });
  });

  it.each([
    [['--slots', '0'], /Invalid --slots '0'/],
    [['--slots', 'two'], /Invalid --slots/],
    [['--max-memory', '12x'], /--max-memory: Invalid size '12x'/],
    [['--checkin-frequency-seconds', '0'], /must be more than 0/],
    [['--cpuset', '0,9'], /CPU 9 does not exist \(this machine has 4\)/],
    [['--cpuset', '1,1'], /listed twice/],
    [['--tag', 'no spaces'], /^Invalid --tag 'no spaces': use 1 to 100 letters, digits, underscores \(_\) and hyphens \(-\)\.$/],
    [['--id', 'a/b'], /Invalid --id/],
    [['--server', 'ftp://x'], /only http/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--run-network', 'host'], /Invalid --run-network 'host': name a bridge network/],
    [['--run-network', 'a b'], /Invalid --run-network/],
    [['extra'], /too many arguments|excess/i],
    [['--frobnicate'], /^unknown option '--frobnicate' \(see cl-worker --help\)\.$/],
    [['--log-format', 'pretty'], /^Invalid --log-format 'pretty': expected text or json\.$/],
    [['--pull-policy', 'never'], /^Invalid --pull-policy 'never': expected missing or always\.$/],
  ])('refuses %j with a one-line message', (argv, message) => {
    let error: unknown;
    try {
      parse(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('returns the help text for --help', () => {
    const parsed = parseWorkerArgs(['--help'], env, host);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toContain('--password-file');
  });

  it('needs credentials from a password file or the environment (not a usage error)', () => {
    expect(() => parse([], {})).toThrow(/--password-file FILE .* CODALAB_USERNAME and CODALAB_PASSWORD/);
    expect(() => parse([], {})).not.toThrow(UsageError);
  });
});

describe('password file', () => {
  it('reads user and password from a mode-600 file', () => {
    const file = path.join(dir, 'ok');
    writeFileSync(file, 'bob\npa ss\n');
    chmodSync(file, 0o600);
    expect(parse(['--password-file', file], {})).toMatchObject({ username: 'bob', password: 'pa ss' });
  });

  it('refuses a file readable by group or others, saying how to fix it', () => {
    const file = path.join(dir, 'open');
    writeFileSync(file, 'bob\npw\n');
    chmodSync(file, 0o644);
    expect(() => parse(['--password-file', file], {})).toThrow(`Password file ${file} is readable by other users (mode 644); run: chmod 600 ${file}`);
    expect(checkPasswordFileMode(0o100640, 'f')).toMatch(/mode 640/);
    expect(checkPasswordFileMode(0o100600, 'f')).toBeNull();
    expect(checkPasswordFileMode(0o100400, 'f')).toBeNull();
  });

  it('refuses a file without a password line, and a missing file', () => {
    const file = path.join(dir, 'short');
    writeFileSync(file, 'bob\n');
    chmodSync(file, 0o600);
    expect(() => parse(['--password-file', file], {})).toThrow(/username on line 1 and the password on line 2/);
    expect(() => parse(['--password-file', path.join(dir, 'none')], {})).toThrow(/Cannot read password file/);
  });

  it('parses gpusets: ALL means every detected GPU, NONE none', () => {
    expect(parseGpuset('ALL')).toBeNull();
    expect(parseGpuset('none')).toEqual([]);
    expect(parseGpuset('0,GPU-1234abcd')).toEqual(['0', 'GPU-1234abcd']);
    expect(() => parseGpuset('0,0')).toThrow(/Invalid --gpuset/);
  });

  it('parses cpusets', () => {
    expect(parseCpuset('ALL', 2)).toBeNull();
    expect(parseCpuset('1-1', 2)).toEqual([1]);
  });
});
