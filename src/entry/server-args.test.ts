import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../common/usage-error.js';
import { parseDatabaseUrl, parseServerArgs } from './server-args.js';

const env = { CODALAB_HOME: '/h' };

function refusal(argv: string[]): string {
  try {
    parseServerArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('cl-server flags', () => {
  it('has defaults and a frozen config', () => {
    const parsed = parseServerArgs([], env);
    if (parsed.kind !== 'run') throw new Error('expected a config');
    expect(parsed.args.config).toMatchObject({ home: '/h/server', port: 2900, databaseUrl: '/h/server/codalab.sqlite' });
    expect(Object.isFrozen(parsed.args.config)).toBe(true);
  });

  it('keeps the bundle store in the home unless --store-dir names another, and takes an --advertise-url', () => {
    const plain = parseServerArgs(['--home', '/srv/a'], env);
    if (plain.kind !== 'run') throw new Error('expected a config');
    expect(plain.args.config).toMatchObject({ storeDir: '/srv/a/store', advertiseUrl: null });
    const shared = parseServerArgs(['--store-dir', 'shared/store', '--advertise-url', 'http://node-2.lab:2900/'], env);
    if (shared.kind !== 'run') throw new Error('expected a config');
    expect(shared.args.config).toMatchObject({ storeDir: resolve('shared/store'), advertiseUrl: 'http://node-2.lab:2900' });
  });

  it('refuses an --advertise-url peers could not open', () => {
    for (const bad of ['node-2:2900', 'ftp://node-2', 'http://node-2:2900/rest', 'http://node-2?x=1']) {
      expect(refusal(['--advertise-url', bad])).toBe(`Invalid --advertise-url '${bad}': expected http://HOST:PORT, the address other servers reach this one at.`);
    }
  });

  it('parses values', () => {
    const parsed = parseServerArgs(['--port', '0', '--max-request-memory', '2g', '--default-request-network', 'no'], env);
    if (parsed.kind !== 'run') throw new Error('expected a config');
    expect(parsed.args.config.port).toBe(0);
    expect(parsed.args.config.requestLimits.maxRequestMemory).toBe(2 * 1024 ** 3);
    expect(parsed.args.config.defaultRequestNetwork).toBe(false);
  });

  it('parses the default user quotas, keeping the defaults for those not given', () => {
    const parsed = parseServerArgs(['--default-user-disk-quota', '5g', '--default-user-time-quota', '10h'], env);
    if (parsed.kind !== 'run') throw new Error('expected a config');
    expect(parsed.args.config.defaultUserQuotas).toEqual({ diskBytes: 5 * 1024 ** 3, timeSeconds: 36000, parallelRuns: 100 });
    expect(() => parseServerArgs(['--default-user-parallel-run-quota', 'many'], env)).toThrow(
      "Invalid --default-user-parallel-run-quota 'many': expected a whole number, 0 or more.",
    );
  });

  it('parses the bounds on silent workers, stuck runs and missing uploads', () => {
    const parsed = parseServerArgs(
      ['--worker-lease-seconds', '600', '--preparing-timeout-seconds', '60', '--finalizing-timeout-seconds', '90', '--upload-timeout-seconds', '30'],
      env,
    );
    if (parsed.kind !== 'run') throw new Error('expected a config');
    expect(parsed.args.config).toMatchObject({
      workerLeaseSeconds: 600,
      preparingTimeoutSeconds: 60,
      finalizingTimeoutSeconds: 90,
      uploadTimeoutSeconds: 30,
    });
    const defaults = parseServerArgs([], env);
    if (defaults.kind !== 'run') throw new Error('expected a config');
    expect(defaults.args.config).toMatchObject({ workerLeaseSeconds: 1800, preparingTimeoutSeconds: 21600, uploadTimeoutSeconds: 600 });
  });

  it('parses token lifetimes (whole seconds) and --allow-signup', () => {
    const defaults = parseServerArgs([], env);
    if (defaults.kind !== 'run') throw new Error('expected a config');
    expect(defaults.args.config).toMatchObject({ tokenTtlSeconds: 3600, refreshTokenTtlSeconds: 30 * 24 * 3600, allowSignup: false });
    const parsed = parseServerArgs(['--token-ttl-seconds', '60', '--refresh-token-ttl-seconds', '600', '--allow-signup'], env);
    if (parsed.kind !== 'run') throw new Error('expected a config');
    expect(parsed.args.config).toMatchObject({ tokenTtlSeconds: 60, refreshTokenTtlSeconds: 600, allowSignup: true });
    expect(refusal(['--token-ttl-seconds', '0'])).toMatch(/Invalid --token-ttl-seconds '0': expected a whole number of seconds, 1 or more/);
    expect(refusal(['--refresh-token-ttl-seconds', '1.5'])).toMatch(/whole number/);
  });

  it('logs text lines unless --log-format json', () => {
    const plain = parseServerArgs([], env);
    const json = parseServerArgs(['--log-format', 'json', '--verbose'], env);
    if (plain.kind !== 'run' || json.kind !== 'run') throw new Error('expected a config');
    expect(plain.args).toMatchObject({ logFormat: 'text', verbose: false });
    expect(json.args).toMatchObject({ logFormat: 'json', verbose: true });
  });

  it('returns help text for --help', () => {
    const parsed = parseServerArgs(['--help'], env);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toContain('--database-url');
    if (parsed.kind === 'help') expect(parsed.text).toContain('--worker-lease-seconds');
  });

  it.each([
    [['--frobnicate'], "unknown option '--frobnicate' (see cl-server --help)."],
    [['stray'], /^too many arguments.*\(see cl-server --help\)\.$/],
    [['--port', '70000'], "Invalid --port '70000': expected a whole number from 0 to 65535."],
    [['--worker-timeout-seconds', '-1'], "Invalid --worker-timeout-seconds '-1': expected a number of seconds, 0 or more."],
    [['--worker-lease-seconds', 'soon'], "Invalid --worker-lease-seconds 'soon': expected a number of seconds, 0 or more."],
    [['--max-request-disk', 'big'], /^--max-request-disk: Invalid size 'big'/],
    [['--max-request-cpus', '1.5'], "Invalid --max-request-cpus '1.5': expected a whole number, 0 or more."],
    [['--default-request-network', 'maybe'], "Invalid --default-request-network 'maybe': expected true or false."],
    [['--max-request-memory', '1m'], 'Invalid --max-request-memory 1m: it is below --min-request-memory (4m, the default).'],
    [['--database-url', 'postgresql://db'], "Invalid --database-url 'postgresql://db': expected sqlite:PATH, a file path or postgres://USER@HOST[:PORT]/DATABASE."],
    [['--log-format', 'pretty'], "Invalid --log-format 'pretty': expected text or json."],
  ])('refuses %j with one line naming the flag', (argv, message) => {
    const text = refusal(argv);
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });
});

describe('parseDatabaseUrl', () => {
  it('takes a plain path, sqlite:PATH and sqlite:///PATH', () => {
    expect(parseDatabaseUrl(undefined, '/home')).toBe('/home/codalab.sqlite');
    expect(parseDatabaseUrl('/data/db.sqlite', '/home')).toBe('/data/db.sqlite');
    expect(parseDatabaseUrl('sqlite:/data/db.sqlite', '/home')).toBe('/data/db.sqlite');
    expect(parseDatabaseUrl('sqlite:rel.sqlite', '/home')).toBe(resolve('rel.sqlite'));
    expect(parseDatabaseUrl('sqlite:////data/db.sqlite', '/home')).toBe('/data/db.sqlite');
    expect(parseDatabaseUrl('sqlite:///rel.sqlite', '/home')).toBe(resolve('rel.sqlite'));
  });

  it('keeps a postgres:// or postgresql:// URL as given', () => {
    expect(parseDatabaseUrl('postgres://u@h/db', '/home')).toBe('postgres://u@h/db');
    expect(parseDatabaseUrl('postgresql://u:pw@h:5433/codalab?sslmode=require', '/home')).toBe('postgresql://u:pw@h:5433/codalab?sslmode=require');
  });

  it('refuses a PostgreSQL URL without a host or database, other URLs and an empty path', () => {
    expect(() => parseDatabaseUrl('postgres://u:secret@h', '/home')).toThrow("Invalid --database-url 'postgres://u:***@h': expected");
    expect(() => parseDatabaseUrl('postgres:///db', '/home')).toThrow(/expected sqlite:PATH/);
    expect(() => parseDatabaseUrl('mysql://h/db', '/home')).toThrow(
      "Invalid --database-url 'mysql://h/db': expected sqlite:PATH, a file path or postgres://USER@HOST[:PORT]/DATABASE.",
    );
    expect(() => parseDatabaseUrl('sqlite:', '/home')).toThrow(/expected sqlite:PATH/);
    expect(() => parseDatabaseUrl('sqlite://host/db', '/home')).toThrow(/expected sqlite:PATH/);
  });
});
