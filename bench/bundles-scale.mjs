// Benchmark: the researcher's commands on a large store. Fills a fresh database with --bundles
// bundles straight through the Store (dist/server/store, in concurrent batches, before the server
// starts): datasets and runs, mostly ready, some failed or killed, four owners, twenty name stems,
// every --every-nth bundle on one worksheet, each run depending on an earlier dataset. Then starts
// bin/cl-server on it and times whole bin/cl processes, interleaved with `node -e 0` (the floor of
// any Node process on this machine at this moment): a selective search (one name), a broad one
// with .limit, a count, a search as a user who owns a quarter (permissions filter every row), `cl ls`
// of the worksheet and `cl info` of a bundle by name. Prints medians and ratios to node.
//
//   node bench/bundles-scale.mjs [--bundles 100000] [--every 200] [--runs 7] [--database sqlite|postgres]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../dist/server/store/open-store.js';
import { hashPassword } from '../dist/server/services/passwords.js';
import { randomIds } from '../dist/server/ids.js';
import { median, onExit, option, runBench, waitFor } from './bench-support.mjs';
import { openBenchDatabase } from './bench-postgres.mjs';

const BUNDLES = Number(option('--bundles', 100_000));
const EVERY = Number(option('--every', 200));
const RUNS = Number(option('--runs', 7));
const DATABASE = option('--database', 'sqlite');
const PASSWORD = 'bench-password';
const STEMS = ['mnist', 'cifar', 'imagenet', 'squad', 'glue', 'wiki', 'coco', 'librispeech', 'bert', 'resnet',
  'gpt', 'vit', 'lstm', 'crf', 'parser', 'tagger', 'eval', 'preprocess', 'tokenize', 'features'];
const root = new URL('..', import.meta.url).pathname;
const cl = join(root, 'bin/cl');

/** The i-th bundle: a run every third, depending on the dataset just before it. */
function bundleAt(i, owners, datasets) {
  const isRun = i % 3 === 2;
  const stem = STEMS[i % STEMS.length];
  const name = `${stem}-${i}`;
  const time = Date.UTC(2025, 0, 1) + i * 60_000;
  const roll = i % 20;
  const state = roll < 16 ? 'ready' : roll < 18 || !isRun ? 'failed' : 'killed';
  const metadata = {
    name,
    description: `${stem} ${isRun ? 'run' : 'data'} number ${i}`,
    tags: [stem, isRun ? 'run' : 'data'],
    data_size: 1000 + ((i * 7919) % 10_000_000),
    ...(isRun ? { request_cpus: 1 + (i % 4), time: (i % 500) / 10, exitcode: state === 'ready' ? 0 : 1 } : {}),
    ...(state === 'failed' ? { failure_message: 'bench: made failed' } : {}),
  };
  const parent = datasets[datasets.length - 1];
  return {
    row: {
      uuid: randomIds.uuid(), bundle_type: isRun ? 'run' : 'dataset', command: isRun ? `python ${stem}.py --seed ${i}` : null,
      // Hashed, so that no owner gets only some name stems or only runs.
      state, owner_id: owners[(Math.imul(i, 0x9e3779b1) >>> 16) % owners.length], is_dir: i % 2 === 0, created: time, last_updated: time, metadata, name,
      worker_owner_id: null, worker_id: null, assignment_id: null, kill_requested: false,
    },
    dependencies: isRun && parent ? [{ child_path: 'data', parent_uuid: parent, parent_path: '' }] : [],
  };
}

/** Fills the store; returns the owners' names and ids, the worksheet's name, and the fill rate. */
async function fillStore(url) {
  const store = openStore(url);
  try {
    await store.migrate();
    const hash = await hashPassword(PASSWORD);
    const created = Date.now();
    // Root's id and name are what the server's ensureRootUser would give it.
    const users = [{ id: '0', user_name: 'codalab', is_root: true }, ...['alice', 'bob', 'carol'].map((n) => ({ id: randomIds.uuid(), user_name: n, is_root: false }))];
    for (const u of users) await store.insertUser({ ...u, password_hash: hash, created, email: null, last_login: null });
    const worksheet = { uuid: randomIds.uuid(), name: 'scale', title: 'scale bench', owner_id: '0', created };
    await store.insertWorksheet(worksheet);
    const owners = users.map((u) => u.id);
    const datasets = [];
    const started = performance.now();
    for (let first = 0; first < BUNDLES; first += 500) {
      const batch = [];
      for (let i = first; i < Math.min(BUNDLES, first + 500); i += 1) {
        const { row, dependencies } = bundleAt(i, owners, datasets);
        if (row.bundle_type === 'dataset') datasets.push(row.uuid);
        batch.push(store.insertBundle(row, dependencies, i % EVERY === 0 ? worksheet.uuid : null));
      }
      await Promise.all(batch);
    }
    const seconds = (performance.now() - started) / 1000;
    return { worksheet: worksheet.name, seconds };
  } finally {
    await store.close();
  }
}

/** Seconds one process takes from spawn to exit, and the lines it printed; fails the bench when it fails. */
function timed(args, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${args.slice(1).join(' ')} failed: ${result.stderr.toString().trim()}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, lines: result.stdout.toString().split('\n').filter((l) => l !== '').length };
}

/** A bin/cl environment logged in as `user`, its current worksheet the bench's. */
function clientEnv(home, url, user, worksheet) {
  const env = { ...process.env, CODALAB_HOME: join(home, `cl-${user}`), CODALAB_USERNAME: user, CODALAB_PASSWORD: PASSWORD };
  delete env.CODALAB_ROOT_PASSWORD;
  timed([cl, 'work', `${url}::${user === 'codalab' ? worksheet : ''}`], env);
  return env;
}

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-scale-'));
  onExit(() => rmSync(home, { recursive: true, force: true }));
  const serverHome = join(home, 'server');
  mkdirSync(serverHome, { mode: 0o700 });
  const database = await openBenchDatabase(DATABASE, serverHome);
  let server;
  try {
    const fill = await fillStore(database.url);
    const env = { ...process.env, CODALAB_ROOT_PASSWORD: PASSWORD };
    server = spawn(join(root, 'bin/cl-server'), ['--home', serverHome, '--port', '0', '--database-url', database.url], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    // Before the other exit steps: the server goes before its database and home.
    process.prependListener('exit', () => server.kill('SIGKILL'));
    const addressFile = join(serverHome, 'address.json');
    await waitFor(() => existsSync(addressFile) || server.exitCode !== null, 'the server address');
    if (server.exitCode !== null) throw new Error(`cl-server exited with status ${server.exitCode}`);
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    const asRoot = clientEnv(home, url, 'codalab', fill.worksheet);
    const asAlice = clientEnv(home, url, 'alice', fill.worksheet);
    const one = `${STEMS[3]}-${BUNDLES - 17}`;
    const cases = [
      ['node -e 0', ['-e', '0'], asRoot],
      [`cl search name=${one}`, [cl, 'search', `name=${one}`], asRoot],
      ['cl search state=ready .limit=50', [cl, 'search', 'state=ready', '.limit=50'], asRoot],
      ['cl search mnist .limit=50', [cl, 'search', STEMS[0], '.limit=50'], asRoot],
      ['cl search type=run .count', [cl, 'search', 'type=run', '.count'], asRoot],
      ['cl search mnist .limit=50 (alice)', [cl, 'search', STEMS[0], '.limit=50'], asAlice],
      [`cl ls (${Math.ceil(BUNDLES / EVERY)} bundles)`, [cl, 'ls'], asRoot],
      [`cl info ${one}`, [cl, 'info', one], asRoot],
    ];
    const samples = cases.map(() => []);
    const printed = [];
    for (let r = 0; r < RUNS; r += 1) {
      cases.forEach(([, args, caseEnv], k) => {
        const { seconds, lines } = timed(args, caseEnv);
        samples[k].push(seconds);
        printed[k] = lines;
      });
    }
    const floor = median(samples[0]);
    console.log(`bundles-scale: ${BUNDLES} bundles on ${DATABASE}, ${Math.ceil(BUNDLES / EVERY)} on the worksheet; filled in ${fill.seconds.toFixed(1)} s (${(BUNDLES / fill.seconds).toFixed(0)}/s); medians of ${RUNS}, interleaved (node ${process.version})`);
    cases.forEach(([name], k) => {
      const m = median(samples[k]);
      console.log(`  ${name.padEnd(36)} ${m.toFixed(3)} s  ${(m / floor).toFixed(2)}x node  (max ${Math.max(...samples[k]).toFixed(3)} s, ${printed[k]} lines out)`);
    });
  } finally {
    if (server) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
    database.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

runBench(main);
