// Benchmark: reads of a running bundle (relayed through the server to the worker) against the
// same reads of a finished bundle (served from the server's store), measured in the same run.
// Prints the latency of `cl cat` of a small file (the info + blob requests it makes, and the
// whole `bin/cl cat` process) and the throughput of streaming a 100 MB file (through the API, and
// as a whole `bin/cl cat` to /dev/null, which is what a user waits for), with ratios.
// Needs `npm run build`, a running dockerd and the image.
//
//   node bench/live-reads.mjs [--runs N] [--streams N] [--image IMAGE] [--mb 100]
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../dist/common/http-client.js';
import { Bundle, TokenResponse, Worksheet, TargetInfo, routes } from '../dist/protocol/index.js';
import { median, option, runBench, stopBench, waitFor } from './bench-support.mjs';

const RUNS = Number(option('--runs', '20'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const MB = Number(option('--mb', '100'));
const STREAMS = Number(option('--streams', '7'));
const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'bench-password';

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-live-'));
  const env = { ...process.env, CODALAB_ROOT_PASSWORD: PASSWORD, CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: PASSWORD, CODALAB_HOME: join(home, 'cl') };
  const server = spawn(join(root, 'bin/cl-server'), ['--home', join(home, 'server'), '--port', '0', '--default-cpu-image', IMAGE], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const children = [server];
  try {
    const addressFile = join(home, 'server', 'address.json');
    await waitFor(() => existsSync(addressFile), 'the server address');
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    children.push(spawn(join(root, 'bin/cl-worker'), ['--server', url, '--work-dir', join(home, 'worker'), '--id', 'bench', '--slots', '2', '--gpuset', 'NONE'], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
    execFileSync(join(root, 'bin/cl'), ['work', `${url}::`], { env, stdio: 'ignore' });

    const client = new HttpClient({ baseUrl: url });
    client.token = (await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: PASSWORD } })).access_token;
    const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
    const make = `head -c ${MB}m /dev/urandom > big.bin && echo hello > small.txt`;
    const create = (command) => client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command, metadata: { request_docker_image: IMAGE, request_memory: 1024 ** 3 }, dependencies: [] },
    });
    const state = async (uuid) => (await client.json(routes.bundle(uuid), Bundle)).state;

    const finished = await create(make);
    const running = await create(`${make} && echo made && sleep 3600`);
    await waitFor(async () => (await state(finished.uuid)) === 'ready', 'the finished bundle');
    await waitFor(async () => {
      if ((await state(running.uuid)) !== 'running') return false;
      const response = await client.send(routes.contentsBlob(running.uuid, 'stdout')).catch(() => null);
      return response !== null && (await response.text()) === 'made\n';
    }, 'the running bundle');

    const catOnce = async (uuid) => {
      const start = performance.now();
      await client.json(routes.contentsInfo(uuid, 'small.txt'), TargetInfo);
      const text = await (await client.send(routes.contentsBlob(uuid, 'small.txt'))).text();
      if (text !== 'hello\n') throw new Error(`unexpected contents ${JSON.stringify(text)}`);
      return performance.now() - start;
    };
    const clCatOnce = (uuid) => {
      const start = performance.now();
      const out = execFileSync(join(root, 'bin/cl'), ['cat', `${uuid}/small.txt`], { env });
      if (out.toString() !== 'hello\n') throw new Error('unexpected cl cat output');
      return performance.now() - start;
    };
    const clStreamOnce = (uuid) => {
      const start = performance.now();
      const sink = openSync('/dev/null', 'w');
      try {
        execFileSync(join(root, 'bin/cl'), ['cat', `${uuid}/big.bin`], { env, stdio: ['ignore', sink, 'inherit'] });
      } finally {
        closeSync(sink);
      }
      return (MB * 1024 * 1024) / ((performance.now() - start) / 1000);
    };
    const streamOnce = async (uuid) => {
      const start = performance.now();
      const response = await client.send(routes.contentsBlob(uuid, 'big.bin'), { timeoutMs: 0 });
      let bytes = 0;
      for await (const chunk of response.body) bytes += chunk.length;
      if (bytes !== MB * 1024 * 1024) throw new Error(`streamed ${bytes} bytes`);
      return bytes / ((performance.now() - start) / 1000);
    };

    // Running and finished alternate, so drifting load on a shared machine hits both alike.
    const measurePair = async (live, done, n) => {
      await live();
      await done(); // warm
      const values = { live: [], done: [] };
      for (let i = 0; i < n; i += 1) {
        values.live.push(await live());
        values.done.push(await done());
      }
      return [median(values.live), median(values.done)];
    };
    const [latencyLive, latencyDone] = await measurePair(() => catOnce(running.uuid), () => catOnce(finished.uuid), RUNS);
    const [clLive, clDone] = await measurePair(() => clCatOnce(running.uuid), () => clCatOnce(finished.uuid), 5);
    const [rateLive, rateDone] = await measurePair(() => streamOnce(running.uuid), () => streamOnce(finished.uuid), STREAMS);
    const [clRateLive, clRateDone] = await measurePair(() => clStreamOnce(running.uuid), () => clStreamOnce(finished.uuid), 5);
    const mbps = (rate) => (rate / 1024 / 1024).toFixed(0);

    console.log(`image: ${IMAGE}, latency runs: ${RUNS}, file: ${MB} MiB, streams: ${STREAMS} each, alternating`);
    console.log(`cat small file (info + blob requests): running ${latencyLive.toFixed(1)} ms, finished ${latencyDone.toFixed(1)} ms, ratio ${(latencyLive / latencyDone).toFixed(2)}`);
    console.log(`bin/cl cat small file (whole process): running ${clLive.toFixed(0)} ms, finished ${clDone.toFixed(0)} ms, ratio ${(clLive / clDone).toFixed(2)}`);
    console.log(`stream ${MB} MiB file (API): running ${mbps(rateLive)} MiB/s, finished ${mbps(rateDone)} MiB/s, throughput ratio ${(rateLive / rateDone).toFixed(2)}`);
    console.log(`bin/cl cat ${MB} MiB file > /dev/null (whole process): running ${mbps(clRateLive)} MiB/s, finished ${mbps(clRateDone)} MiB/s, throughput ratio ${(clRateLive / clRateDone).toFixed(2)}`);
    await client.json(routes.bundleActions(), Bundle.pick({ uuid: true, state: true }), { json: { type: 'kill', uuid: running.uuid } });
    await waitFor(async () => (await state(running.uuid)) === 'killed', 'the kill', 60_000);
  } finally {
    await stopBench(children, home);
  }
}

runBench(main);
