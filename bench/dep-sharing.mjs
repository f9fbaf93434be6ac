// Benchmark: 10 runs sharing one dependency on a 2-slot worker that downloads dependencies (no
// --shared-file-system). Submitted together, they should move the dependency over the network
// once, not 10 times: prints the time until all are ready, the bytes the worker downloaded (its
// "Cached" log lines) and the size of its dependency cache, against 10x the dependency's size.
// Baselines from the same run: one `cl download` of the dataset (the time to move it once) and
// one `cl run --wait` on it once it is cached.
// Needs `npm run build`, a running dockerd and the image. Random bytes, so nothing compresses.
//
//   node bench/dep-sharing.mjs [--mb 1024] [--runs 10] [--image IMAGE]
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../dist/common/http-client.js';
import { treeSize } from '../dist/worker/fs/tree.js';
import { Bundle, TokenResponse, routes } from '../dist/protocol/index.js';
import { option, runBench, stopBench, waitFor } from './bench-support.mjs';

const MB = Number(option('--mb', '1024'));
const RUNS = Number(option('--runs', '10'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const PARTS = 8;
const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'bench-password';
const MiB = 1024 * 1024;

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-deps-'));
  const env = { ...process.env, CODALAB_ROOT_PASSWORD: PASSWORD, CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: PASSWORD, CODALAB_HOME: join(home, 'cl') };
  const cl = (...args) => execFileSync(join(root, 'bin/cl'), args, { env, maxBuffer: 1 << 20 }).toString().trim();
  const timedCl = (...args) => {
    const start = performance.now();
    const out = cl(...args);
    return { seconds: (performance.now() - start) / 1000, out };
  };
  const server = spawn(join(root, 'bin/cl-server'), ['--home', join(home, 'server'), '--port', '0', '--default-cpu-image', IMAGE], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const children = [server];
  try {
    const addressFile = join(home, 'server', 'address.json');
    await waitFor(() => existsSync(addressFile), 'the server address');
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    const workDir = join(home, 'worker');
    const workerLog = join(home, 'worker.log');
    const worker = spawn(join(root, 'bin/cl-worker'), ['--server', url, '--work-dir', workDir, '--id', 'bench', '--slots', '2', '--gpuset', 'NONE', '--verbose'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    worker.stderr.pipe(createWriteStream(workerLog));
    children.push(worker);
    cl('work', `${url}::`);

    const source = join(home, 'source');
    mkdirSync(source);
    for (let i = 0; i < PARTS; i += 1) {
      execFileSync('sh', ['-c', `head -c ${Math.ceil(MB / PARTS)}M /dev/urandom > ${join(source, `part-${i}.bin`)}`]);
    }
    const dataBytes = await treeSize(source);
    const data = cl('upload', source, '-n', 'shared-data');

    const client = new HttpClient({ baseUrl: url });
    client.token = (await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: PASSWORD } })).access_token;
    const state = async (uuid) => (await client.json(routes.bundle(uuid), Bundle)).state;
    // The image is pulled and the worker warmed by a run without the dependency.
    cl('run', '--wait', '--request-docker-image', IMAGE, 'true');

    const start = performance.now();
    const runs = [];
    for (let i = 0; i < RUNS; i += 1) {
      runs.push(cl('run', '-n', `use-${i}`, '--request-docker-image', IMAGE, `d:${data}`, 'test -s d/part-0.bin'));
    }
    await waitFor(async () => {
      const states = await Promise.all(runs.map(state));
      const bad = states.find((s) => s === 'failed' || s === 'killed');
      if (bad) throw new Error(`a run ended ${bad}: ${cl('info', '-f', 'failure_message', runs[states.indexOf(bad)])}`);
      return states.every((s) => s === 'ready');
    }, 'the runs', 1_800_000, 200);
    const allSeconds = (performance.now() - start) / 1000;

    const warmRun = timedCl('run', '--wait', '--request-docker-image', IMAGE, `d:${data}`, 'test -s d/part-0.bin').seconds;
    const downloadOnce = timedCl('download', data, '-o', join(home, 'downloaded')).seconds;
    rmSync(join(home, 'downloaded'), { recursive: true, force: true });

    const cached = [...readFileSync(workerLog, 'utf8').matchAll(/Cached (\S+) \((\d+) bytes\)/g)].filter((m) => m[1].startsWith(data));
    const downloaded = cached.reduce((sum, m) => sum + Number(m[2]), 0);
    const cacheBytes = await treeSize(join(workDir, 'dependencies'));
    const mib = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;
    console.log(`${RUNS} runs on one ${mib(dataBytes)} dependency (${PARTS} files of random bytes), 2-slot worker, downloads (no shared file system)`);
    console.log(`all ${RUNS} ready after          ${allSeconds.toFixed(1)} s (submitted together, cold cache)`);
    console.log(`worker downloaded           ${mib(downloaded)} in ${cached.length} download(s); ${(downloaded / (RUNS * dataBytes)).toFixed(2)}x of ${RUNS} copies (${mib(RUNS * dataBytes)})`);
    console.log(`dependency cache on disk    ${mib(cacheBytes)} (${(cacheBytes / dataBytes).toFixed(2)} copies)`);
    console.log(`baseline: cl download once  ${downloadOnce.toFixed(1)} s; ${RUNS} copies would take ~${(RUNS * downloadOnce).toFixed(0)} s`);
    console.log(`baseline: one warm run      ${warmRun.toFixed(1)} s (dependency cached); ${RUNS} on 2 slots ~${((RUNS / 2) * warmRun).toFixed(0)} s`);
  } finally {
    await stopBench(children, home);
  }
}

runBench(main);
