// Conformance with CodaLab's command line: every command and flag that the reference lists for
// the commands we ship (and every cl-worker flag, and the seed's example command lines) is shown
// by `cl help COMMAND` and accepted by the parser, or is a deliberate gap in DROPPED below, which
// `cl` explains when used. PENDING lists what other branches are adding; empty it as they merge.
//
// The list of flags comes from test/conformance/codalab-reference.json, generated from the
// reference by scripts/gen-reference-flags.mjs: the reference is prose, so its extraction is
// reviewable as a diff, and the checks below run in any checkout. The freshness test regenerates
// it from the reference copy beside the repository (../shared, as CI lays it out) and fails when
// the checked-in fixture is stale.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { DROPPED_CL_FLAGS } from '../../src/cli/dropped-flags.js';
import type { CliContext } from '../../src/cli/session.js';
import type { CliConfig } from '../../src/cli/config.js';
import { StateStore } from '../../src/cli/state-store.js';
import { droppedFlagSpellings } from '../../src/common/dropped-flags.js';
import { parseWorkerArgs } from '../../src/worker/config.js';
import { DROPPED_WORKER_FLAGS } from '../../src/worker/dropped-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.CODALAB_SHARED_DIR ?? path.join(ROOT, '..', 'shared');

interface Reference {
  cl: Record<string, { aliases: string[]; flags: string[][] }>;
  'cl-worker': string[][];
  seedCommands: string[][];
}
const reference = JSON.parse(
  readFileSync(path.join(ROOT, 'test', 'conformance', 'codalab-reference.json'), 'utf8'),
) as Reference;

/**
 * THE table of CodaLab flags we deliberately do not support, with why. `cl` (and `cl-worker`) must
 * answer each with a one-line "not supported" message and exit 1; the messages themselves are in
 * src/cli/dropped-flags.ts and src/worker/dropped-flags.ts, which must list exactly these.
 */
const DROPPED: ReadonlyArray<[program: string, flag: string, why: string]> = [
  ['cl upload', '-g, --git', 'no server-side git clone; clone locally and upload'],
  ['cl upload', '-z, --force-compression', 'contents travel as plain tar (DESIGN §6)'],
  ['cl upload', '-i, --ignore', '-x/--exclude-patterns covers it'],
  ['cl upload', '-l, --link', 'no linked bundles'],
  ['cl upload', '--link-url', 'no linked bundles'],
  ['cl upload', '--link-format', 'no linked bundles'],
  ['cl upload', '-a, --use-azure-blob-beta', 'one bundle store per server'],
  ['cl upload', '--store', 'one bundle store per server'],
  ['cl upload', '--license', 'set later with cl edit -f license'],
  ['cl upload', '--source-url', 'set later with cl edit -f source_url'],
  ['cl upload', '-e, --edit', 'no editor form; -n/-d/--tags'],
  ['cl run', '--store', 'one bundle store per server'],
  ['cl run', '-e, --edit', 'no editor form; -n/-d/--tags'],
  ['cl run', '-a, --after_sort_key', 'worksheet position for the web UI; bundles are appended'],
  ['cl run', '-i, --interactive', 'no local interactive container'],
  ['cl run', '-v, --verbose', 'cl info after --wait/--tail'],
  ['cl make', '--store', 'one bundle store per server'],
  ['cl make', '-e', 'no editor form'],
  ['cl mimic', '-s, --shadow', 'bundles are appended to the worksheet'],
  ['cl mimic', '-W', 'cl wait on the printed uuids'],
  ['cl mimic', '-t', 'cl wait --tail on the printed uuids'],
  ['cl mimic', '-v', 'cl wait on the printed uuids'],
  ['cl macro', '-s, --shadow', 'bundles are appended to the worksheet'],
  ['cl macro', '-W', 'cl wait on the printed uuids'],
  ['cl macro', '-t', 'cl wait --tail on the printed uuids'],
  ['cl macro', '-v', 'cl wait on the printed uuids'],
  ['cl edit', '--anonymous', 'no anonymous bundles'],
  ['cl edit', '--not-anonymous', 'no anonymous bundles'],
  ['cl ls', '-f', 'cl info -f FIELDS $(cl ls -u)'],
  ['cl search', '-a, --append', 'cl add bundle $(cl search ... -u)'],
  ['cl uedit', '--first-name', 'no profile fields; quotas and access only'],
  ['cl print', '-r', 'worksheets have no markup source'],
  ['cl help', '-v', 'help already shows every option'],
  ['cl help', '-m', 'plain-text help only'],
  ['cl-worker', '--ws-server', 'work arrives over the --server connection'],
  ['cl-worker', '--preemptible', 'not implemented: restaging lost runs'],
  ['cl-worker', '--exit-on-exception', 'not implemented; fatal errors exit 1'],
  ['cl-worker', '--delete-work-dir-on-exit', 'not implemented'],
  ['cl-worker', '--network-prefix', '--run-network instead'],
  ['cl-worker', '--download-dependencies-max-retries', 'not configurable'],
  ['cl-worker', '--max-image-size', 'not implemented'],
  ['cl-worker', '--bundle-runtime', 'Docker only'],
  ['cl-worker', '--kubernetes-cluster-host', 'Docker only'],
  ['cl-worker', '--kubernetes-auth-token', 'Docker only'],
  ['cl-worker', '--kubernetes-cert-path', 'Docker only'],
  ['cl-worker', '--kubernetes-cert', 'Docker only'],
];

/**
 * PENDING IN OTHER BRANCHES: reference flags (and seed lines) that are being added elsewhere.
 * Each is reported as a todo while missing, and fails once present so that it is removed here.
 */
const PENDING: ReadonlyArray<[program: string, flag: string]> = [
];

/** Reference commands we do not ship, by group, with why (DESIGN.md §3 lists the verbs we ship). */
const NOT_SHIPPED: ReadonlyArray<[commands: string, why: string]> = [
  ['bs-add-partition bs-rm-partition bs-ls-partitions bs-health-check events reset', 'server admin commands'],
  ['store mount open wopen netcurl', 'no bundle stores, FUSE, browser or HTTP proxy commands'],
  ['wadd wedit', 'worksheet copying and editor-based editing are not supported'],
];

const DESIGN_VERBS =
  'upload run cat info ls search wait download kill rm edit make mimic macro workers work status new wls wrm add detach uinfo uedit logout help'.split(' ');

function fakeContext(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const home = mkdtempSync(path.join(tmpdir(), 'cl-conformance-'));
  const ctx: CliContext = {
    config: { home } as CliConfig,
    io: { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: process.stdin } as CliContext['io'],
    state: new StateStore(home),
    exitCode: 0,
    // Reaching the session means parsing and checking the arguments succeeded.
    session: () => Promise.reject(new ReachedSession()),
  };
  return { ctx, out: () => out, err: () => err };
}

class ReachedSession extends Error {}

function program(): { program: Command; out: () => string; err: () => string } {
  const { ctx, out, err } = fakeContext();
  return { program: buildProgram(ctx, () => undefined), out, err };
}

const cl = program().program;

function findCommand(name: string): Command | undefined {
  return name === '' ? cl : cl.commands.find((c) => c.name() === name);
}

function optionFor(command: Command, spelling: string): Option | undefined {
  return command.options.find((o) => o.short === spelling || o.long === spelling);
}

async function helpOf(name: string): Promise<string> {
  const p = program();
  await p.program.parseAsync(name === '' ? ['help'] : ['help', name], { from: 'user' });
  return p.out();
}

function flagName(flag: readonly string[]): string {
  return flag.join(', ');
}

function isListed(table: ReadonlyArray<readonly [string, string, ...string[]]>, programName: string, flag: readonly string[]): boolean {
  return table.some(([p, f]) => p === programName && f.split(/,\s*/).some((s) => flag.includes(s)));
}

const shipped = Object.entries(reference.cl).filter(([name]) => findCommand(name) !== undefined);
const notShippedNames = NOT_SHIPPED.flatMap(([names]) => names.split(' '));

describe('the reference fixture', () => {
  const cliReference = path.join(SHARED, 'reference', 'codalab-cli.md');
  it.skipIf(!existsSync(cliReference))(`is generated from the current reference (${cliReference})`, () => {
    // Fails with the command to run when the reference changed since the fixture was generated.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-reference-flags.mjs'), SHARED, '--check'], {
      stdio: 'pipe',
    });
  });

  it('names every command of the reference as shipped or not shipped, with why', () => {
    const unexplained = Object.keys(reference.cl).filter((name) => !findCommand(name) && !notShippedNames.includes(name));
    expect(unexplained).toEqual([]);
    const shippedAnyway = notShippedNames.filter((name) => findCommand(name));
    expect(shippedAnyway, 'shipped now: remove from NOT_SHIPPED').toEqual([]);
  });

  it('ships every verb DESIGN.md §3 lists', () => {
    expect(DESIGN_VERBS.filter((verb) => !findCommand(verb))).toEqual([]);
  });
});

describe.each(shipped)('cl %s', (name, entry) => {
  const command = findCommand(name) as Command;
  const label = name === '' ? 'cl' : `cl ${name}`;

  it('is shipped', () => {
    expect(command).toBeDefined();
  });

  it.each(entry.aliases)('has the alias %s', (alias) => {
    expect(command.aliases()).toContain(alias);
  });

  for (const flag of entry.flags) {
    if (isListed(PENDING.map(([p, f]) => [p, f] as const), label, flag)) {
      it.todo(`${flagName(flag)} (pending in another branch)`);
      it(`${flagName(flag)} is still missing (else remove it from PENDING)`, () => {
        expect(flag.every((s) => optionFor(command, s))).toBe(false);
      });
      continue;
    }
    const dropped = isListed(DROPPED, label, flag);
    it(`${flagName(flag)} is ${dropped ? 'explained as not supported' : 'shown by cl help and accepted'}`, async () => {
      const options = flag.map((s) => optionFor(command, s));
      expect(options.every((o) => o !== undefined), `${label} ${flagName(flag)}: not accepted`).toBe(true);
      expect(new Set(options).size, `${flagName(flag)} must be one option`).toBe(1);
      const help = await helpOf(name);
      for (const spelling of flag) expect(help).toMatch(new RegExp(`(^|[\\s,/\\[])${spelling}(?![\\w-])`, 'm'));
      const option = options[0] as Option;
      expect(option.hidden, `${flagName(flag)} is ${dropped ? '' : 'not '}in the DROPPED table`).toBe(dropped);
      if (dropped) await expectNotSupported(name, command, flag[0] as string);
    });
  }
});

/** In-process: the flag after enough positional arguments gives one explaining line, exit 1. */
async function expectNotSupported(name: string, command: Command, spelling: string): Promise<void> {
  const p = program();
  const positional = command.registeredArguments.filter((a) => a.required).map(() => 'x');
  const failure = await p.program.parseAsync([name, ...positional, spelling], { from: 'user' }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(Error);
  expect(String((failure as Error).message)).toMatch(new RegExp(`^\\S*${spelling}\\S* is not supported: .+\\.$`));
  expect((failure as Error).message).not.toContain('\n');
}

describe('the DROPPED table', () => {
  it('is exactly the cl and cl-worker registries', () => {
    const table = DROPPED.map(([p, f]) => `${p} ${f}`).sort();
    const registered = [
      ...Object.entries(DROPPED_CL_FLAGS).flatMap(([c, flags]) => flags.map((f) => `cl ${c} ${f.flags}`)),
      ...DROPPED_WORKER_FLAGS.map((f) => `cl-worker ${f.flags}`),
    ].sort();
    expect(registered).toEqual(table);
  });

  it('lists only flags the reference has', () => {
    const known = (p: string, spellings: string[]): boolean =>
      p === 'cl-worker'
        ? reference['cl-worker'].some((f) => spellings.every((s) => f.includes(s)))
        : (reference.cl[p.replace(/^cl ?/, '')]?.flags ?? []).some((f) => spellings.every((s) => f.includes(s)));
    expect(DROPPED.filter(([p, f]) => !known(p, f.split(/,\s*/)))).toEqual([]);
  });

  it('is explained end to end by bin/cl and bin/cl-worker (one line, exit 1)', () => {
    const env = { ...process.env, CODALAB_HOME: mkdtempSync(path.join(tmpdir(), 'cl-conformance-')) };
    const upload = spawnSync(path.join(ROOT, 'bin', 'cl'), ['upload', '--link', '/tmp'], { env, encoding: 'utf8' });
    expect(upload.status).toBe(1);
    expect(upload.stderr).toMatch(/^cl: -l\/--link is not supported: .+\n$/);
    const worker = spawnSync(path.join(ROOT, 'bin', 'cl-worker'), ['--preemptible'], {
      env: { ...env, CODALAB_USERNAME: 'u', CODALAB_PASSWORD: 'p' },
      encoding: 'utf8',
    });
    expect(worker.status).toBe(1);
    expect(worker.stderr).toMatch(/^cl-worker: --preemptible is not supported: .+\n$/);
  });
});

describe('cl-worker', () => {
  const env = { CODALAB_USERNAME: 'u', CODALAB_PASSWORD: 'p' };
  const host = { cwd: tmpdir(), hostname: 'conformance', cpuCount: 2 };
  const parsed = parseWorkerArgs(['--help'], env, host);
  const help = parsed.kind === 'help' ? parsed.text : '';

  it.each(reference['cl-worker'].map((flag) => [flag[0] as string]))('%s is shown and accepted, or explained', (flag) => {
    expect(help).toMatch(new RegExp(`(^|\\s)${flag}(?![\\w-])`, 'm'));
    const dropped = DROPPED_WORKER_FLAGS.some((d) => droppedFlagSpellings(d).includes(flag));
    let message = '';
    try {
      parseWorkerArgs([flag], env, host);
    } catch (error) {
      message = (error as Error).message;
    }
    if (dropped) expect(message).toMatch(new RegExp(`^${flag} is not supported: .+\\.$`));
    else expect(message).not.toMatch(/unknown option|not supported/);
  });
});

describe('the seed example command lines', () => {
  for (const words of reference.seedCommands) {
    const line = words.join(' ');
    if (PENDING.some(([p, f]) => p === 'seed' && f === line)) {
      it.todo(`${line} (pending in another branch)`);
      it(`still refuses: ${line} (else remove it from PENDING)`, async () => {
        expect(await acceptsSeedLine(words)).toBe(false);
      });
      continue;
    }
    it(`accepts: ${line}`, async () => {
      expect(await acceptsSeedLine(words)).toBe(true);
    });
  }
});

/** Parses a seed line as `cl` or `cl-worker` would; `cl` must get as far as opening a session. */
async function acceptsSeedLine(words: readonly string[]): Promise<boolean> {
  const [programName, ...args] = words;
  if (programName === 'cl-worker') {
    try {
      return parseWorkerArgs(args, { CODALAB_USERNAME: 'u', CODALAB_PASSWORD: 'p' }, { cwd: tmpdir(), hostname: 'h', cpuCount: 2 }).kind === 'config';
    } catch {
      return false;
    }
  }
  const p = program();
  const failure = await p.program.parseAsync(args, { from: 'user' }).then(() => null, (error: unknown) => error);
  return failure instanceof ReachedSession;
}
