// How fast bytes move, as the user waits for them, against `tar -cf - DIR | tar -xf -` into
// another directory (the disk's and the archiver's floor) measured in the same run, interleaved:
//   - `cl upload DIR` of a directory of random bytes (whole process, local instance);
//   - `cl download` of that bundle into a new directory (whole process);
//   - the first `cl run --wait` with that bundle as a dependency, against the second one (the
//     dependency already at hand), both whole processes.
// Needs `npm run build`, a running dockerd and the default image. Random bytes, so that no layer
// can win by compressing.
//
//   node bench/transfers.mjs [--mb 1024] [--files 16] [--runs 3] [--image IMAGE]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, option } from './bench-support.mjs';

const MB = Number(option('--mb', '1024'));
const FILES = Number(option('--files', '16'));
const RUNS = Number(option('--runs', '3'));
const IMAGE = option('--image', 'codalab/default-cpu:latest');
const cl = fileURLToPath(new URL('../bin/cl', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'cl-transfer-bench-'));
const env = { ...process.env, CODALAB_HOME: join(home, 'cl') };
delete env.CODALAB_USERNAME;
delete env.CODALAB_PASSWORD;

/** Seconds one command takes from spawn to exit; its stdout. */
function timed(file, args, options = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20, ...options });
  if (result.status !== 0) throw new Error(`${[file, ...args].join(' ')} failed: ${result.stderr}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, out: String(result.stdout).trim() };
}

function clTimed(...args) {
  return timed(process.execPath, [cl, ...args]);
}

function makeSource(dir) {
  mkdirSync(dir);
  const perFile = Math.ceil(MB / FILES);
  for (let i = 0; i < FILES; i += 1) {
    execFileSync('sh', ['-c', `head -c ${perFile}M /dev/urandom > ${join(dir, `part-${i}.bin`)}`]);
  }
}

function dropCaches() {
  // Only root may drop the page cache; without it every side reads from memory alike.
  spawnSync('sh', ['-c', 'sync; echo 1 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
}

try {
  const source = join(home, 'source');
  makeSource(source);
  clTimed('upload', '-c', 'warm-up', '-n', 'warm-up');
  clTimed('run', '--wait', '--request-docker-image', IMAGE, 'true');

  const samples = { tarPipe: [], upload: [], download: [], firstRun: [], secondRun: [] };
  for (let i = 0; i < RUNS; i += 1) {
    const copy = join(home, `tar-copy-${i}`);
    mkdirSync(copy);
    dropCaches();
    samples.tarPipe.push(timed('sh', ['-c', `tar -C '${source}' -cf - . | tar -C '${copy}' -xf -`]).seconds);
    rmSync(copy, { recursive: true, force: true });

    dropCaches();
    const upload = clTimed('upload', source, '-n', `data-${i}`);
    samples.upload.push(upload.seconds);
    const uuid = upload.out;

    const downloaded = join(home, `download-${i}`);
    samples.download.push(clTimed('download', uuid, '-o', downloaded).seconds);
    rmSync(downloaded, { recursive: true, force: true });

    // Docker flushes the file system's dirty pages when it starts a container, so the first run
    // after writing 1 GiB would pay for the upload's writeback (a bare `docker run` does too).
    // Flushed here, untimed: the runs then show what moving the dependency costs.
    execFileSync('sync');
    const run = (name) => clTimed('run', '--wait', '-n', name, '--request-docker-image', IMAGE, `d:${uuid}`, 'test -s d/part-0.bin');
    samples.firstRun.push(run(`first-${i}`).seconds);
    samples.secondRun.push(run(`second-${i}`).seconds);
    clTimed('rm', '--force', `first-${i}`, `second-${i}`);
    clTimed('rm', '--force', uuid);
  }

  const floor = median(samples.tarPipe);
  const rate = (seconds) => `${(MB / seconds).toFixed(0)} MiB/s`;
  console.log(`${MB} MiB in ${FILES} files of random bytes, ${RUNS} runs each, interleaved, medians`);
  console.log(`tar pipe (baseline)       ${floor.toFixed(2)} s  ${rate(floor)}`);
  for (const [name, label] of [['upload', 'cl upload'], ['download', 'cl download']]) {
    const m = median(samples[name]);
    console.log(`${label.padEnd(25)} ${m.toFixed(2)} s  ${rate(m)}  ${(floor / m).toFixed(2)}x tar pipe (target >= 0.8x)`);
  }
  const first = median(samples.firstRun);
  const second = median(samples.secondRun);
  console.log(`first run on it (--wait)  ${first.toFixed(2)} s`);
  console.log(`second run (--wait)       ${second.toFixed(2)} s  first/second ${(first / second).toFixed(2)} (target ~1)`);
} finally {
  spawnSync(process.execPath, [cl, 'local', 'stop'], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
