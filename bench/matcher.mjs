// Benchmark: one scheduling pass of the pure matcher (fair-share ordering + placement + a reason
// for every run left waiting) over 10,000 staged runs and 1,000 simulated workers. Prints the
// time of one pass (median and best of N) and placements per second. Target: a pass under 200 ms
// on one core. Needs `npm run build`. Deterministic: the load comes from a seeded generator.
// With `--load N`, measures again with N busy-looping processes beside it and prints both.
//
//   node bench/matcher.mjs [--runs 10000] [--workers 1000] [--passes 15] [--load N]
import { matchRuns } from '../dist/server/scheduling/matcher.js';
import { orderStagedRuns } from '../dist/server/scheduling/run-order.js';
import { median, option, startLoad } from './bench-support.mjs';

const RUNS = Number(option('--runs', 10_000));
const WORKERS = Number(option('--workers', 1_000));
const PASSES = Number(option('--passes', 15));
const LOAD = Number(option('--load', 0));
const TARGET_MS = 200;
const G = 1024 ** 3;

/** mulberry32: small, fast, seeded. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(42);
const pick = (list) => list[Math.floor(random() * list.length)];
const QUEUES = ['gpu-a100', 'gpu-h100', 'cpu-big', 'nlp', 'vision'];
const parents = Array.from({ length: 500 }, (_, i) => `0x${i.toString(16).padStart(32, '0')}:`);
/** Parent sizes from 1 KiB to 100 GiB, so that warmth is weighed in bytes. */
const sizes = new Map(parents.map((p) => [p, Math.round(1024 * 100 ** (random() * 4.5))]));

function makeWorkers() {
  return Array.from({ length: WORKERS }, (_, i) => {
    const gpuBox = random() < 0.2;
    const cpus = pick([8, 16, 32, 64]);
    const memory = pick([32, 64, 128, 256]) * G;
    const gpus = gpuBox ? pick([1, 2, 4, 8]) : 0;
    const tagged = random() < 0.1;
    const own = random() < 0.1;
    const used = random() * 0.5;
    return {
      key: `w${i}`,
      name: `w${i}`,
      owner_id: own ? `u${Math.floor(random() * 100)}` : 'root',
      owner_is_root: !own,
      tag: tagged ? pick(QUEUES) : null,
      tag_exclusive: tagged && random() < 0.5,
      total_cpus: cpus,
      total_gpus: gpus,
      total_memory: memory,
      free_cpus: Math.floor(cpus * (1 - used)),
      free_gpus: Math.floor(gpus * (1 - used)),
      free_memory: Math.floor(memory * (1 - used)),
      free_disk: pick([50, 200, 1000]) * G,
      free_slots: pick([2, 4, 8, 16]),
      runs_left: null,
      docker_ok: random() > 0.01,
      gpus_lost: false,
      cached_dependencies: new Set(Array.from({ length: 20 }, () => pick(parents))),
    };
  });
}

function makeRuns() {
  return Array.from({ length: RUNS }, (_, i) => {
    // One user floods the queue with half of all runs; 99 others share the rest.
    const owner = random() < 0.5 ? 'u0' : `u${1 + Math.floor(random() * 99)}`;
    return {
      uuid: `0x${i.toString(16).padStart(32, '0')}`,
      owner_id: owner,
      queue: random() < 0.05 ? pick(QUEUES) : null,
      priority: random() < 0.2 ? Math.floor(random() * 10) - 3 : 0,
      dependency_keys: Array.from({ length: Math.floor(random() * 3) }, () => pick(parents)),
      dependency_sizes: sizes,
      resources: {
        docker_image: 'codalab/default-cpu:latest',
        cpus: pick([1, 1, 1, 2, 4, 8]),
        gpus: random() < 0.1 ? pick([1, 2, 4]) : 0,
        memory: pick([1, 2, 2, 4, 8, 16, 64, 512]) * G,
        disk: random() < 0.3 ? pick([1, 10, 100]) * G : 0,
        time: 0,
        network: true,
      },
    };
  });
}

const workers = makeWorkers();
const runs = makeRuns();
const active = new Map([['u0', 500], ['u1', 3]]);

/** Times PASSES full passes (order, place, explain) after warming up the JIT. */
function measure() {
  for (let i = 0; i < 3; i += 1) matchRuns(orderStagedRuns(runs, active), workers);
  const passMs = [];
  const matchMs = [];
  let result;
  for (let i = 0; i < PASSES; i += 1) {
    const t0 = performance.now();
    const ordered = orderStagedRuns(runs, active);
    const t1 = performance.now();
    result = matchRuns(ordered, workers);
    const t2 = performance.now();
    passMs.push(t2 - t0);
    matchMs.push(t2 - t1);
  }
  return { passMs, matchMs, result };
}

const quiet = measure();
let loaded = null;
if (LOAD > 0) {
  const stopLoad = startLoad(LOAD);
  try {
    loaded = measure();
  } finally {
    stopLoad();
  }
}
const { passMs, matchMs, result } = quiet;
const placed = result.assignments.length;
const reasons = new Map();
for (const reason of result.waiting.values()) {
  const kind = reason.replace(/\d+(\.\d+)?[kmgt]?/g, 'N');
  reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
}
const pass = median(passMs);
console.log(`matcher: ${RUNS} staged runs, ${WORKERS} workers, ${PASSES} passes (node ${process.version}, one core)`);
console.log(`  placed ${placed}, waiting ${result.waiting.size} (every one with a reason)`);
console.log(`  one scheduling pass (order + place + explain): median ${pass.toFixed(1)} ms, best ${Math.min(...passMs).toFixed(1)} ms`);
console.log(`  placement alone: median ${median(matchMs).toFixed(1)} ms, ${Math.round(placed / (median(matchMs) / 1000)).toLocaleString('en-US')} placements/s`);
console.log(`  target: one pass under ${TARGET_MS} ms -> ${pass < TARGET_MS ? 'met' : 'MISSED'} (${(pass / TARGET_MS).toFixed(2)}x of the budget)`);
if (loaded) {
  const loadedPass = median(loaded.passMs);
  console.log(`  under load (${LOAD} busy processes): median ${loadedPass.toFixed(1)} ms, best ${Math.min(...loaded.passMs).toFixed(1)} ms -> ${loadedPass < TARGET_MS ? 'met' : 'MISSED'}`);
}
console.log('  most common waiting reasons (numbers as N):');
for (const [kind, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`    ${n}\t${kind}`);
