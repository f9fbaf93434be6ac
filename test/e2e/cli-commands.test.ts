// End-to-end: the researcher commands of issue 3 through bin/cl against a real server and worker:
// specs and ranges, download, rm, edit, detach, search, worksheets, make, upload flags, memoize,
// mimic/macro, info genpaths, uinfo/alias/config, --json and completion, with their error cases.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, REPO_ROOT } from './harness.js';

const UUID = /^0x[0-9a-f]{32}$/;
let cluster: Cluster;

async function fails(args: string[], pattern: RegExp): Promise<void> {
  const result = await cluster.cl(args);
  expect(result.code, `${args.join(' ')}: ${result.stdout}`).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

async function runReady(args: string[]): Promise<string> {
  const uuid = await cluster.clOk(['run', ...args]);
  const waited = await cluster.cl(['wait', uuid], { timeoutMs: 120_000 });
  expect(waited.code, cluster.describeLogs()).toBe(0);
  return uuid;
}

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-commands' });
  expect((await cluster.cl(['work', `${cluster.url}::`])).code, cluster.describeLogs()).toBe(0);
  await cluster.clOk(['new', 'specs']);
  await cluster.clOk(['work', 'specs']);
});

afterAll(async () => {
  await cluster?.stop();
});

describe('bundle specs', () => {
  it('resolves names, wildcards, name^N, ^N, ranges, WORKSHEET//SPEC and refuses ambiguous prefixes', async () => {
    const a1 = await cluster.clOk(['upload', '-c', 'one', '-n', 'alpha']);
    const a2 = await cluster.clOk(['upload', '-c', 'two', '-n', 'alpha']);
    const b = await cluster.clOk(['upload', '-c', 'three', '-n', 'beta_x']);
    expect(await cluster.clOk(['info', '-f', 'uuid', 'alpha'])).toBe(a2);
    expect(await cluster.clOk(['info', '-f', 'uuid', 'alpha^2'])).toBe(a1);
    expect(await cluster.clOk(['info', '-f', 'uuid', 'bet%'])).toBe(b);
    expect(await cluster.clOk(['info', '-f', 'uuid', 'be.*x'])).toBe(b);
    expect(await cluster.clOk(['info', '-f', 'uuid', '^1'])).toBe(b);
    expect(await cluster.clOk(['info', '-f', 'uuid', '^1-3'])).toBe([b, a2, a1].join('\n'));
    expect(await cluster.clOk(['info', '-f', 'uuid', '^3-2'])).toBe([a1, a2].join('\n'));
    expect(await cluster.clOk(['info', '-f', 'uuid', 'specs//^2'])).toBe(a2);
    expect(await cluster.clOk(['cat', 'specs//alpha^2'])).toBe('one');
    expect(await cluster.clOk(['info', '-f', 'uuid', a1.slice(0, 12)])).toBe(a1);
    // Upload until two bundles share their first hex digit (at most 17 bundles by pigeonhole).
    const seen = new Map<string, string>([a1, a2, b].map((u) => [u.slice(0, 3), u]));
    let prefix = [a1, a2, b].map((u) => u.slice(0, 3)).find((p, i, all) => all.indexOf(p) !== i);
    while (prefix === undefined) {
      const extra = await cluster.clOk(['upload', '-c', 'pad', '-n', 'padding']);
      if (seen.has(extra.slice(0, 3))) prefix = extra.slice(0, 3);
      seen.set(extra.slice(0, 3), extra);
    }
    await fails(['info', prefix], /ambiguous; it matches 0x[0-9a-f]{32} \(/);
    await cluster.clOk(['work', 'specs']);
    await fails(['info', 'alpha^5'], /No bundle named 'alpha\^5'/);
    await fails(['info', '^99'], /No bundle \^99/);
  });
});

describe('download, edit, detach, rm', () => {
  it('downloads a file and a directory, refusing to overwrite without -f', async () => {
    const dir = join(cluster.root, 'dl-src');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'A');
    writeFileSync(join(dir, 'sub', 'b.txt'), 'B');
    await cluster.clOk(['upload', dir, '-n', 'dltree']);
    const out = join(cluster.root, 'dl-out');
    expect(await cluster.clOk(['download', 'dltree', '-o', out])).toBe(out);
    expect(readFileSync(join(out, 'sub', 'b.txt'), 'utf8')).toBe('B');
    await fails(['download', 'dltree', '-o', out], /already exists; use -f/);
    await cluster.clOk(['download', 'dltree/a.txt', '-o', out, '-f']);
    expect(readFileSync(out, 'utf8')).toBe('A');
    const cwd = join(cluster.root, 'dl-cwd');
    mkdirSync(cwd);
    await cluster.clOk(['download', 'dltree'], { cwd });
    expect(readFileSync(join(cwd, 'dltree', 'a.txt'), 'utf8')).toBe('A');
  });

  it('edits metadata and refuses immutable fields', async () => {
    const uuid = await cluster.clOk(['upload', '-c', 'x', '-n', 'editme']);
    expect(await cluster.clOk(['edit', 'editme', '-n', 'edited', '-d', 'desc', '--tags', 't1', 't2'])).toBe(uuid);
    await cluster.clOk(['edit', 'edited', '-f', 'note', 'hello world', '-f', 'seed', '3']);
    expect(await cluster.clOk(['info', '-f', 'name,description,tags,note,seed', uuid])).toBe('edited\tdesc\tt1 t2\thello world\t3');
    await fails(['edit', 'edited', '-f', 'command', 'ls'], /Cannot edit command/);
    await fails(['edit', 'edited', '-n', 'bad name'], /Invalid bundle name/);
    await fails(['edit', 'edited'], /Nothing to edit/);
  });

  it('detaches without deleting, and rm refuses dependents, active bundles, then deletes', async () => {
    const data = await cluster.clOk(['upload', '-c', 'base', '-n', 'rmbase']);
    const child = await cluster.clOk(['make', 'copy:rmbase', '-n', 'rmchild']);
    await cluster.waitForState(child, ['ready']);
    await fails(['rm', 'rmbase'], /1 bundle\(s\) depend on it, e\.g\. rmchild/);
    expect(await cluster.clOk(['info', '-f', 'state', data])).toBe('ready');
    expect(await cluster.clOk(['rm', '--dry-run', '-r', 'rmbase'])).toBe([child, data].join('\n'));
    expect(await cluster.clOk(['info', '-f', 'state', child])).toBe('ready');
    expect(await cluster.clOk(['rm', '-d', 'rmchild'])).toBe(child);
    expect(await cluster.clOk(['info', '-f', 'data_size', child])).toBe('0');
    expect(await cluster.clOk(['rm', '-r', 'rmbase'])).toBe([child, data].join('\n'));
    await fails(['info', data], /No bundle with uuid/);

    const kept = await cluster.clOk(['upload', '-c', 'kept', '-n', 'detachme']);
    expect(await cluster.clOk(['detach', 'detachme'])).toBe(kept);
    expect(await cluster.clOk(['ls', '-u'])).not.toContain(kept);
    expect(await cluster.clOk(['info', '-f', 'state', kept])).toBe('ready');

    const sleeper = await cluster.clOk(['run', 'sleep 60', '-n', 'sleeper']);
    await cluster.waitForState(sleeper, ['running']);
    await fails(['rm', sleeper], /it is running; kill it first/);
    await cluster.clOk(['kill', sleeper]);
    await cluster.waitForState(sleeper, ['killed']);
    expect(await cluster.clOk(['rm', sleeper])).toBe(sleeper);
  }, 180_000);
});

describe('search', () => {
  it('filters, sorts, pages, counts, sums and refuses keywords that do not parse', async () => {
    await cluster.clOk(['new', 'searchws']);
    const s1 = await cluster.clOk(['upload', '-c', 'aa', '-n', 'srch-one', '-w', 'searchws']);
    const s2 = await cluster.clOk(['upload', '-c', 'bbbb', '-n', 'srch-two', '-w', 'searchws']);
    expect(await cluster.clOk(['search', 'srch-', '-u'])).toBe([s2, s1].join('\n'));
    expect(await cluster.clOk(['search', 'name=srch-%', 'name=.sort', '-u'])).toBe([s1, s2].join('\n'));
    expect(await cluster.clOk(['search', 'name=srch-one,srch-two', '.limit=1', '-u'])).toBe(s2);
    const limited = await cluster.cl(['search', 'srch-', '.limit=1', '-u']);
    expect(limited.stderr).toMatch(/Showing the first 1 matches/);
    expect(await cluster.clOk(['search', 'srch-', '.offset=1', '-u'])).toBe(s1);
    expect(await cluster.clOk(['search', 'worksheet=searchws', '.count'])).toBe('2');
    expect(await cluster.clOk(['search', 'worksheet=searchws', 'size=.sum'])).toBe('6');
    expect(await cluster.clOk(['search', 'srch-', 'state=ready', 'type=dataset', 'owner=codalab', '.mine', '.count'])).toBe('2');
    expect(await cluster.clOk(['search', 'srch-', '.after=2000-01-01', '.before=2999-01-01', '.count'])).toBe('2');
    expect(await cluster.clOk(['search', 'srch-', '.before=2000-01-01', '.count'])).toBe('0');
    expect(await cluster.clOk(['search', 'srch-two', '-f', 'name,data_size'])).toBe('srch-two\t4');
    const json = JSON.parse(await cluster.clOk(['search', 'srch-', '--json'])) as { bundles: { uuid: string }[]; more: boolean };
    expect(json.bundles.map((b) => b.uuid)).toEqual([s2, s1]);
    const child = await cluster.clOk(['make', 'k:srch-one', '-n', 'srch-child']);
    expect(await cluster.clOk(['search', `dependency=${s1}`, '-u'])).toBe(child);
    await fails(['search', '.bogus'], /Unknown search keyword '\.bogus'/);
    await fails(['search', '.limit=abc'], /expected a whole number/);
    await fails(['search', 'state=sleeping'], /not a bundle state/);
    await fails(['search', '.after=yesterdayish'], /expected a date/);
  });
});

describe('worksheets', () => {
  it('creates, lists, adds bundles and text, prints, and removes worksheets', async () => {
    const ws = await cluster.clOk(['new', 'wsone', '-t', 'First']);
    expect(ws).toMatch(UUID);
    await fails(['new', 'wsone'], /already exists/);
    await fails(['new', 'bad name'], /Invalid worksheet name/);
    const b = await cluster.clOk(['upload', '-c', 'w', '-n', 'wsbundle', '-w', 'wsone']);
    await cluster.clOk(['add', 'text', '## Results', '-d', 'wsone']);
    expect(await cluster.clOk(['add', 'bundle', 'wsbundle', '-d', 'wsone'])).toBe(b);
    const printed = await cluster.clOk(['print', 'wsone']);
    expect(printed).toMatch(/### Title: First/);
    expect(printed).toMatch(/## Results/);
    expect(printed).toMatch(/\^2\s+0x[0-9a-f]{8}\s+wsbundle/);
    expect(printed).toMatch(/\^1\s+0x[0-9a-f]{8}\s+wsbundle/);
    const items = JSON.parse(await cluster.clOk(['print', 'wsone', '--json'])) as { items: { type: string }[] };
    expect(items.items.map((i) => i.type)).toEqual(['bundle', 'markup', 'bundle']);
    expect(await cluster.clOk(['wls', 'wsone', '-u'])).toBe(ws);
    expect(await cluster.clOk(['wls', '-u'])).toContain(ws);
    const ls = JSON.parse(await cluster.clOk(['ls', '-w', 'wsone', '--json'])) as { worksheet: { name: string }; bundles: unknown[] };
    expect(ls.worksheet.name).toBe('wsone');
    expect(ls.bundles).toHaveLength(2);
    await fails(['wrm', 'wsone'], /not empty/);
    expect(await cluster.clOk(['wrm', 'wsone', '--force'])).toBe(ws);
    await fails(['work', 'wsone'], /No worksheet named 'wsone'/);
    expect(await cluster.clOk(['info', '-f', 'state', b])).toBe('ready');
    const home = await cluster.clOk(['wls', 'home-codalab', '-u']);
    expect(home).toMatch(UUID);
  });
});

describe('make', () => {
  it('assembles keyed and unkeyed targets on the server, and refuses two unkeyed targets', async () => {
    const dir = join(cluster.root, 'make-src');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'x.txt'), 'X');
    symlinkSync('x.txt', join(dir, 'link'));
    await cluster.clOk(['upload', dir, '-n', 'mksrc']);
    const copy = await cluster.clOk(['make', 'mksrc/x.txt']);
    expect(copy).toMatch(UUID);
    const both = await cluster.clOk(['make', 'a:mksrc', 'b/c:mksrc/x.txt', '-n', 'mkboth']);
    expect(await cluster.waitForState(copy, ['ready', 'failed'])).toBe('ready');
    expect(await cluster.waitForState(both, ['ready', 'failed'])).toBe('ready');
    expect(await cluster.clOk(['info', '-f', 'name,bundle_type', copy])).toBe('x.txt\tmake');
    expect(await cluster.clOk(['cat', copy])).toBe('X');
    expect(await cluster.clOk(['cat', 'mkboth/b/c'])).toBe('X');
    expect(await cluster.clOk(['cat', 'mkboth/a'])).toMatch(/^link -> x\.txt\s/m);
    await fails(['make', 'mksrc', 'mkboth'], /needs KEY:TARGET for each; 2 of 2 have no key/);
  });
});

describe('upload flags', () => {
  it('handles --pack, -x, -L, symlinks, zip, bz2 and names with spaces and quotes', async () => {
    const dir = join(cluster.root, 'up src');
    mkdirSync(join(dir, '.git'), { recursive: true });
    mkdirSync(join(dir, '__MACOSX'), { recursive: true });
    writeFileSync(join(dir, "it's here.txt"), 'q');
    writeFileSync(join(dir, '._junk'), 'j');
    writeFileSync(join(dir, 'skip.pyc'), 'p');
    writeFileSync(join(dir, '.git', 'HEAD'), 'h');
    symlinkSync("it's here.txt", join(dir, 'inside'));
    const up = await cluster.clOk(['upload', dir, '-x', '*.pyc']);
    expect(await cluster.clOk(['info', '-f', 'name', up])).toBe('up-src');
    const listing = await cluster.clOk(['cat', up]);
    expect(listing).toMatch(/it's here\.txt/);
    expect(listing).toMatch(/inside -> it's here\.txt/);
    expect(listing).not.toMatch(/skip\.pyc|\.git|__MACOSX|\._junk/);
    expect(await cluster.clOk(['cat', `${up}/it's here.txt`])).toBe('q');

    // A link pointing outside is kept as a link (see test/e2e/links.test.ts), never followed.
    symlinkSync('/etc/passwd', join(dir, 'outside'));
    const withLink = await cluster.clOk(['upload', dir]);
    expect(await cluster.clOk(['cat', withLink])).toMatch(/outside -> \/etc\/passwd/);
    const target = join(cluster.root, 'real.txt');
    writeFileSync(target, 'real');
    symlinkSync(target, join(cluster.root, 'alink'));
    await fails(['upload', join(cluster.root, 'alink')], /symbolic link; use -L/);
    expect(await cluster.clOk(['cat', await cluster.clOk(['upload', join(cluster.root, 'alink'), '-L'])])).toBe('real');

    const zipDir = join(cluster.root, 'zipme');
    mkdirSync(join(zipDir, 'inner'), { recursive: true });
    writeFileSync(join(zipDir, 'inner', 'z.txt'), 'zipped');
    execFileSync('zip', ['-qr', join(cluster.root, 'data.zip'), 'inner'], { cwd: zipDir });
    const zipped = await cluster.clOk(['upload', join(cluster.root, 'data.zip')]);
    expect(await cluster.clOk(['info', '-f', 'name', zipped])).toBe('data');
    expect(await cluster.clOk(['cat', `${zipped}/inner/z.txt`])).toBe('zipped');
    const packed = await cluster.clOk(['upload', join(cluster.root, 'data.zip'), '--pack']);
    expect(await cluster.clOk(['info', '-f', 'name,is_dir', packed])).toBe('data.zip\tfalse');

    writeFileSync(join(cluster.root, 'plain.txt'), 'bz');
    execFileSync('bzip2', ['-k', join(cluster.root, 'plain.txt')]);
    const bz = await cluster.clOk(['upload', join(cluster.root, 'plain.txt.bz2'), '-d', 'compressed', '--tags', 'a', 'b']);
    expect(await cluster.clOk(['cat', bz])).toBe('bz');
    expect(await cluster.clOk(['info', '-f', 'description,tags', bz])).toBe('compressed\ta b');
  });
});

describe('memoize, mimic, macro', () => {
  it('reuses only ready identical runs, re-runs with substituted inputs pinned to the old image', async () => {
    await cluster.clOk(['upload', '-c', '3\n1\n2\n', '-n', 'numbers']);
    const sorted = await runReady(['in:numbers', 'sort in > out.txt', '-n', 'sorted']);
    expect(await cluster.clOk(['run', '-m', 'in:numbers', 'sort in > out.txt'])).toBe(sorted);
    const failed = await cluster.clOk(['run', 'exit 3']);
    await cluster.waitForState(failed, ['failed']);
    const again = await cluster.clOk(['run', '-m', 'exit 3']);
    expect(again).not.toBe(failed);

    const other = await cluster.clOk(['upload', '-c', '9\n7\n8\n', '-n', 'numbers2']);
    const image = await cluster.clOk(['info', '-f', 'docker_image', sorted]);
    expect(image).toMatch(/@sha256:|^sha256:/);
    const mimicked = await cluster.clOk(['mimic', 'numbers', 'numbers2']);
    expect(mimicked).toMatch(UUID);
    expect((await cluster.cl(['wait', mimicked], { timeoutMs: 120_000 })).code, await cluster.clOk(['info', mimicked])).toBe(0);
    expect(await cluster.clOk(['cat', `${mimicked}/out.txt`])).toBe('7\n8\n9');
    expect(await cluster.clOk(['info', '-f', 'request_docker_image,dependencies/in', mimicked])).toBe(`${image}\t${other}`);

    const rerun = await cluster.clOk(['mimic', sorted, '-n', 'sorted-again']);
    expect(await cluster.clOk(['info', '-f', 'name,command', rerun])).toBe('sorted-again\tsort in > out.txt');
    await fails(['mimic', 'numbers2', sorted, 'numbers'], /is not an ancestor of/);

    await cluster.clOk(['upload', '-c', 'b\na\n', '-n', 'M-in1']);
    const macroOut = await runReady(['x:M-in1', 'sort x > out.txt', '-n', 'M-out']);
    expect(macroOut).toMatch(UUID);
    await cluster.clOk(['upload', '-c', 'z\ny\n', '-n', 'macro-input']);
    const applied = await cluster.clOk(['macro', 'M', 'macro-input']);
    expect((await cluster.cl(['wait', applied], { timeoutMs: 120_000 })).code).toBe(0);
    expect(await cluster.clOk(['info', '-f', 'name', applied])).toBe('new');
    expect(await cluster.clOk(['cat', `${applied}/out.txt`])).toBe('y\nz');
  }, 300_000);
});

describe('info genpaths, uinfo, alias, config, json, completion', () => {
  it('prints genpaths and the settings commands work', async () => {
    const run = await runReady(['in:numbers', 'printf "acc\\t0.9\\n" > m.tsv; echo \'{"a":{"b":5}}\' > j.json', '-n', 'genp']);
    expect(await cluster.clOk(['info', '-f', '/m.tsv:acc,/j.json:a/b,args', run])).toBe(
      `0.9\t5\tcl run in:${await cluster.clOk(['info', '-f', 'uuid', 'numbers'])} 'printf "acc\\t0.9\\n" > m.tsv; echo '\\''{"a":{"b":5}}'\\'' > j.json' -n genp`,
    );
    const info = JSON.parse(await cluster.clOk(['info', '--json', run])) as { uuid: string }[];
    expect(info[0]?.uuid).toBe(run);
    expect(await cluster.clOk(['uinfo', '-f', 'user_name,is_root'])).toBe('codalab\ttrue');
    expect(JSON.parse(await cluster.clOk(['uinfo', '--json'])) as { bundles: number }).toMatchObject({ user_name: 'codalab' });
    const workers = JSON.parse(await cluster.clOk(['workers', '--json'])) as { id: string }[];
    expect(workers.map((w) => w.id)).toContain('e2e-commands');

    await cluster.clOk(['alias', 'dev', cluster.url]);
    expect(await cluster.clOk(['alias', 'dev'])).toBe(cluster.url);
    expect(await cluster.clOk(['work', 'dev::specs'])).toMatch(/Switched to worksheet: specs/);
    await cluster.clOk(['alias', 'dev', '-r']);
    await fails(['alias', 'dev'], /No alias 'dev'/);
    await cluster.clOk(['config', 'cli/verbose', 'true']);
    expect(await cluster.clOk(['config', 'cli/verbose'])).toBe('true');
    expect(JSON.parse(readFileSync(join(cluster.clHome, 'config.json'), 'utf8'))).toMatchObject({ cli: { verbose: true } });

    expect(await cluster.clOk(['completion', 'bash'])).toMatch(/complete -o default -F _cl_complete cl/);
    expect(await cluster.clOk(['completion', 'zsh'])).toMatch(/compdef _cl cl/);
    expect((await cluster.clOk(['__complete', '1', 'cl', 'mi'])).split('\n')).toEqual(['mimic']);
    expect(await cluster.clOk(['__complete', '2', 'cl', 'rm', '--dr'])).toBe('--dry-run');
    expect(await cluster.clOk(['__complete', '2', 'cl', 'info', 'numbers'])).toMatch(/^numbers$/m);
    expect(await cluster.clOk(['help', 'search'])).toMatch(/--json: \{"bundles"/);
    expect(existsSync(join(cluster.clHome, 'config.json'))).toBe(true);
  }, 180_000);

  it('completes commands, flags and bundle names in a real bash', () => {
    const script = [
      'source <(cl completion bash)',
      'COMP_WORDS=(cl mim); COMP_CWORD=1; _cl_complete; echo "cmd:${COMPREPLY[*]}"',
      'COMP_WORDS=(cl rm --dr); COMP_CWORD=2; _cl_complete; echo "flag:${COMPREPLY[*]}"',
      'COMP_WORDS=(cl info numb); COMP_CWORD=2; _cl_complete; echo "bundle:${COMPREPLY[*]}"',
    ].join('\n');
    const env = { ...cluster.baseEnv(), PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const output = execFileSync('bash', ['-c', script], { env, cwd: cluster.root, encoding: 'utf8' });
    expect(output).toContain('cmd:mimic\n');
    expect(output).toContain('flag:--dry-run\n');
    expect(output).toMatch(/bundle:.*\bnumbers\b/);
  }, 60_000);
});
