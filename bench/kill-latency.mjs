// Benchmark: how fast a kill lands and a time limit bites, the figures the end-to-end tests used
// to assert with a clock. Measures, in the same run:
//  - kill of a running bundle (`echo started; sleep 3600`), from the kill request to `killed`,
//    against the baseline `docker kill` + `docker wait` of a container running the same command on
//    the same engine (the least that stopping a container costs there);
//  - kill of a staged bundle (a queue no worker serves), from the request to `killed`;
//  - a run with --request-time 2s: from `running` to its final state, against the 2 s limit.
// Prints medians and ratios. Needs `npm run build`, a running dockerd and the image.
//
//   node bench/kill-latency.mjs [--runs N] [--image IMAGE]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../dist/common/http-client.js';
import { Bundle, TokenResponse, Worksheet, routes } from '../dist/protocol/index.js';
import { median, option, runBench, stopBench, waitFor } from './bench-support.mjs';

const RUNS = Number(option('--runs', '5'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'bench-password';
const FINAL = ['ready', 'failed', 'killed'];

/** `docker kill` then `docker wait` of a container running the same command: the engine's floor. */
function dockerKillBaseline() {
  const times = [];
  for (let i = 0; i < RUNS; i += 1) {
    const id = execFileSync('docker', ['run', '-d', IMAGE, 'bash', '-c', '( echo started; sleep 3600; ) > /tmp/stdout'])
      .toString()
      .trim();
    const start = performance.now();
    execFileSync('docker', ['kill', id], { stdio: 'ignore' });
    execFileSync('docker', ['wait', id], { stdio: 'ignore' });
    times.push(performance.now() - start);
    execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
  }
  return times;
}

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-kill-'));
  const env = { ...process.env, CODALAB_ROOT_PASSWORD: PASSWORD, CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: PASSWORD };
  const server = spawn(join(root, 'bin/cl-server'), ['--home', join(home, 'server'), '--port', '0', '--default-cpu-image', IMAGE], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const children = [server];
  try {
    const addressFile = join(home, 'server', 'address.json');
    await waitFor(() => existsSync(addressFile), 'the server address');
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    const workerArgs = ['--server', url, '--work-dir', join(home, 'worker'), '--id', 'bench', '--slots', '2', '--gpuset', 'NONE'];
    children.push(spawn(join(root, 'bin/cl-worker'), workerArgs, { env, stdio: ['ignore', 'ignore', 'inherit'] }));

    const client = new HttpClient({ baseUrl: url });
    const token = await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: PASSWORD } });
    client.token = token.access_token;
    const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
    const create = (command, metadata = {}) =>
      client.json(routes.createBundle(worksheet.uuid), Bundle, {
        json: { bundle_type: 'run', command, metadata: { request_docker_image: IMAGE, ...metadata }, dependencies: [] },
      });
    const bundle = (uuid) => client.json(routes.bundle(uuid), Bundle);
    const kill = (uuid) => client.send(routes.bundleActions(), { json: { type: 'kill', uuid } });
    const untilFinal = (uuid) => waitFor(async () => ((b) => (FINAL.includes(b.state) ? b : null))(await bundle(uuid)), `${uuid} to end`);

    const killRunning = async () => {
      const run = await create('echo started; sleep 3600');
      await waitFor(async () => {
        if ((await bundle(run.uuid)).state !== 'running') return false;
        const response = await client.send(routes.contentsBlob(run.uuid, 'stdout')).catch(() => null);
        return response !== null && (await response.text()) === 'started\n';
      }, 'the run to print');
      const start = performance.now();
      await kill(run.uuid);
      const done = await untilFinal(run.uuid);
      if (done.state !== 'killed') throw new Error(`run ended ${done.state}`);
      return performance.now() - start;
    };
    const killStaged = async () => {
      const run = await create('true', { request_queue: 'nobody-serves-this' });
      await waitFor(async () => (await bundle(run.uuid)).state === 'staged', 'the run to be staged');
      const start = performance.now();
      await kill(run.uuid);
      await untilFinal(run.uuid);
      return performance.now() - start;
    };
    const timeLimit = async () => {
      const run = await create('sleep 3600', { request_time: 2 });
      await waitFor(async () => (await bundle(run.uuid)).state === 'running', 'the run to start');
      const start = performance.now();
      const done = await untilFinal(run.uuid);
      if (!/Time limit/.test(String(done.metadata.failure_message))) throw new Error(`no time limit: ${done.metadata.failure_message}`);
      return performance.now() - start;
    };

    await killRunning(); // warm: worker connected, image inspected
    const running = [];
    const staged = [];
    const limited = [];
    for (let i = 0; i < RUNS; i += 1) {
      running.push(await killRunning());
      staged.push(await killStaged());
      limited.push(await timeLimit());
    }
    const baseline = dockerKillBaseline();
    const base = median(baseline);
    console.log(`image: ${IMAGE}, runs: ${RUNS}`);
    console.log(`docker kill + wait of 'echo started; sleep 3600' (baseline): median ${base.toFixed(0)} ms`);
    console.log(`kill of a running bundle, request to killed: median ${median(running).toFixed(0)} ms, ratio ${(median(running) / base).toFixed(2)}`);
    console.log(`kill of a staged bundle, request to killed: median ${median(staged).toFixed(0)} ms`);
    const overshoot = median(limited) / 2000;
    console.log(`--request-time 2s, running to final: median ${median(limited).toFixed(0)} ms, ${overshoot.toFixed(2)} x the limit`);
  } finally {
    await stopBench(children, home, 500);
  }
}

runBench(main);
