// Benchmark: `cl run 'true'` from submission to `ready` on a warm worker, against a raw
// `docker run --rm IMAGE true` on the same engine, measured in the same run. Prints both medians
// and their ratio (target: at most 1.5). Needs `npm run build`, a running dockerd and the image.
//
//   node bench/run-latency.mjs [--runs N] [--image IMAGE]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../dist/common/http-client.js';
import { Bundle, TokenResponse, Worksheet, routes } from '../dist/protocol/index.js';
import { median, option, runBench, stopBench, waitFor } from './bench-support.mjs';

const RUNS = Number(option('--runs', '15'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const root = new URL('..', import.meta.url).pathname;

function dockerRunBaseline() {
  const times = [];
  for (let i = 0; i < RUNS + 2; i += 1) {
    const start = performance.now();
    execFileSync('docker', ['run', '--rm', IMAGE, 'true'], { stdio: 'ignore' });
    if (i >= 2) times.push(performance.now() - start); // the first two warm the engine up
  }
  return times;
}

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-'));
  const env = { ...process.env, CODALAB_ROOT_PASSWORD: 'bench-password', CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: 'bench-password' };
  const server = spawn(join(root, 'bin/cl-server'), ['--home', join(home, 'server'), '--port', '0'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const children = [server];
  try {
    const addressFile = join(home, 'server', 'address.json');
    await waitFor(() => existsSync(addressFile), 'the server address');
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    const worker = spawn(join(root, 'bin/cl-worker'), ['--server', url, '--work-dir', join(home, 'worker'), '--id', 'bench'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(worker);

    const client = new HttpClient({ baseUrl: url });
    const token = await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: 'bench-password' } });
    client.token = token.access_token;
    const worksheet = await client.json(routes.homeWorksheet(), Worksheet);

    const runOnce = async () => {
      const start = performance.now();
      const created = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
        json: { bundle_type: 'run', command: 'true', metadata: { request_docker_image: IMAGE }, dependencies: [] },
      });
      const done = await waitFor(async () => {
        const b = await client.json(routes.bundle(created.uuid), Bundle);
        return ['ready', 'failed', 'killed'].includes(b.state) ? b : null;
      }, 'the run to finish');
      if (done.state !== 'ready') throw new Error(`run ended ${done.state}: ${done.metadata.failure_message}`);
      return performance.now() - start;
    };
    await runOnce(); // warm: worker connected, image inspected
    await runOnce();
    const ours = [];
    for (let i = 0; i < RUNS; i += 1) ours.push(await runOnce());
    const baseline = dockerRunBaseline();
    const oursMedian = median(ours);
    const baseMedian = median(baseline);
    console.log(`image: ${IMAGE}, runs: ${RUNS}`);
    console.log(`docker run --rm IMAGE true: median ${baseMedian.toFixed(0)} ms`);
    console.log(`cl run 'true' (submission to ready): median ${oursMedian.toFixed(0)} ms`);
    console.log(`ratio: ${(oursMedian / baseMedian).toFixed(2)} (target <= 1.5)`);
  } finally {
    await stopBench(children, home, 500);
  }
}

runBench(main);
