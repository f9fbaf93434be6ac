// `cl run --wait true` as the user waits for it: the whole `bin/cl` process, on a local-instance
// style server (`cl-server --with-worker`, warm), against `docker run --rm IMAGE true` on the same
// engine, interleaved. Prints the medians, their ratio (targets: 1.5x, then 1.2x), and where the
// time goes, from the worker's log lines (JSON, millisecond clock) and the process's own clock:
//   cl start -> run accepted     client start, create request, scheduling, dispatch, start request
//   accepted -> container started  image check, mounts, container create and start
//   started -> run finished        the command, exit detection, results hand-over, finish request
//   finished -> cl exit            the server answering the client's wait, client exit
// Needs `npm run build`, a running dockerd and the image.
//
//   node bench/run-wait.mjs [--runs 11] [--image IMAGE]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, option, runBench, waitFor } from './bench-support.mjs';

const RUNS = Number(option('--runs', '11'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const root = new URL('..', import.meta.url).pathname;
const cl = join(root, 'bin/cl');

function timedMs(file, args, env) {
  const start = Date.now();
  const out = execFileSync(file, args, { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  return { start, end: Date.now(), out };
}

/** Times of the worker's lines about each run, by run uuid. */
function runEvents(logFile) {
  const events = new Map();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line);
    if (!entry.run) continue;
    const at = Date.parse(entry.time);
    const run = events.get(entry.run) ?? {};
    if (entry.msg.startsWith('Accepted the run')) run.accepted = at;
    else if (entry.msg.startsWith('Run started in container')) run.started = at;
    else if (entry.msg.startsWith('Run finished')) run.finished = at;
    events.set(entry.run, run);
  }
  return events;
}

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'cl-bench-wait-'));
  const password = 'bench-password';
  const env = { ...process.env, CODALAB_ROOT_PASSWORD: password, CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: password, CODALAB_HOME: join(home, 'cl') };
  const logFile = join(home, 'server.log');
  const log = openSync(logFile, 'a');
  const server = spawn(join(root, 'bin/cl-server'), ['--with-worker', '--log-format', 'json', '--home', join(home, 'server'), '--port', '0', '--default-cpu-image', IMAGE], {
    env,
    stdio: ['ignore', log, log],
  });
  try {
    const addressFile = join(home, 'server', 'address.json');
    await waitFor(() => existsSync(addressFile), 'the server address');
    const { url } = JSON.parse(readFileSync(addressFile, 'utf8'));
    execFileSync(cl, ['work', `${url}::`], { env, stdio: 'ignore' });
    for (let i = 0; i < 2; i += 1) {
      execFileSync(cl, ['run', '--wait', 'true'], { env, stdio: 'ignore' }); // warm the worker and the engine
      execFileSync('docker', ['run', '--rm', IMAGE, 'true'], { stdio: 'ignore' });
    }
    const docker = [];
    const runs = [];
    for (let i = 0; i < RUNS; i += 1) {
      const d = timedMs('docker', ['run', '--rm', IMAGE, 'true'], process.env);
      docker.push(d.end - d.start);
      runs.push(timedMs(process.execPath, [cl, 'run', '--wait', 'true'], env));
    }
    await sleep(200); // the last lines reach the log
    const events = runEvents(logFile);
    const stages = { submitToAccepted: [], acceptedToStarted: [], startedToFinished: [], finishedToExit: [], total: [] };
    for (const run of runs) {
      const e = events.get(run.out);
      if (!e?.accepted || !e.started || !e.finished) throw new Error(`no log lines for run ${run.out}`);
      stages.submitToAccepted.push(e.accepted - run.start);
      stages.acceptedToStarted.push(e.started - e.accepted);
      stages.startedToFinished.push(e.finished - e.started);
      stages.finishedToExit.push(run.end - e.finished);
      stages.total.push(run.end - run.start);
    }
    const dockerMs = median(docker);
    const totalMs = median(stages.total);
    console.log(`image: ${IMAGE}, ${RUNS} runs each, interleaved, medians`);
    console.log(`docker run --rm IMAGE true (baseline)   ${dockerMs.toFixed(0)} ms`);
    console.log(`cl run --wait true (whole process)      ${totalMs.toFixed(0)} ms   ${(totalMs / dockerMs).toFixed(2)}x docker run (target <= 1.5x, then 1.2x)`);
    console.log('where the time goes (medians of each stage):');
    console.log(`  cl start -> run accepted        ${median(stages.submitToAccepted).toFixed(0)} ms`);
    console.log(`  accepted -> container started   ${median(stages.acceptedToStarted).toFixed(0)} ms`);
    console.log(`  started -> run finished         ${median(stages.startedToFinished).toFixed(0)} ms`);
    console.log(`  finished -> cl exit             ${median(stages.finishedToExit).toFixed(0)} ms`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(home, { recursive: true, force: true });
  }
}

runBench(main);
