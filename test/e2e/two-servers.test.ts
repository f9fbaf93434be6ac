// End to end: two cl-server processes on one PostgreSQL database and one shared bundle store, used
// alternately, as behind a load balancer. Server A starts first and takes the scheduler lease; the
// one worker talks to B only. So every scenario crosses servers: runs placed by A reach B's worker,
// waits held on A are woken by B, reads and kills sent to A reach the run through B. Then A is
// killed mid-way (SIGKILL, no hand-over) and B must take over scheduling within seconds.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

const LEASE_LINE = 'took the scheduling lease';

let postgres: PostgresCluster;
let a: Cluster;
let b: Cluster;

function serverLog(cluster: Cluster): string {
  return readFileSync(join(cluster.root, 'server.log'), 'utf8');
}

beforeAll(async () => {
  postgres = await startPostgres();
  const database = await postgres.createDatabase();
  a = new Cluster();
  b = new Cluster();
  const shared = ['--default-cpu-image', DEFAULT_IMAGE, '--database-url', database, '--store-dir', join(a.root, 'shared-store')];
  await a.startServer(shared);
  await waitFor(async () => serverLog(a).includes(LEASE_LINE) || undefined, 30_000, 'server A to take the scheduler lease');
  await b.startServer(shared);
  b.startWorker({ id: 'two-servers' });
  for (const cluster of [a, b]) {
    const work = await cluster.cl(['work', `${cluster.url}::`]);
    expect(work, cluster.describeLogs()).toMatchObject({ code: 0 });
  }
}, 120_000);

afterAll(async () => {
  try {
    await b?.stop();
    await a?.stop();
  } finally {
    await postgres?.stop();
  }
});

function logs(): string {
  return `${a.describeLogs()}\n${b.describeLogs()}`;
}

describe('two cl-servers on one PostgreSQL database', () => {
  it('runs what one server accepted on the worker of the other, and answers through either', async () => {
    writeFileSync(join(a.root, 'words.txt'), 'pear\napple\n');
    const data = await a.clOk(['upload', 'words.txt'], { cwd: a.root });
    // B finds A's upload; A (the scheduler) places B's run on B's worker.
    const run = await b.clOk(['run', `in:${data}`, 'sort in > sorted.txt', '-n', 'two-sorter']);
    // A holds the wait; B receives the worker's report of the end.
    expect((await a.cl(['wait', run], { timeoutMs: 120_000 })).code, logs()).toBe(0);
    expect(await a.clOk(['cat', `${run}/sorted.txt`])).toBe('apple\npear');
    expect(await b.clOk(['info', '-f', 'state', data])).toBe('ready');
    expect(await a.clOk(['search', 'name=two-sorter', '-u'])).toBe(run);
    expect(serverLog(b)).not.toContain(LEASE_LINE);
  }, 150_000);

  it('reads and kills, through one server, a running bundle whose worker talks to the other', async () => {
    const run = await b.clOk(['run', 'echo live > out.txt; sleep 300']);
    await a.waitForState(run, ['running'], 120_000);
    // The worker answers live reads through B only: A forwards the read to B.
    const live = await waitFor(async () => {
      const read = await a.cl(['cat', `${run}/out.txt`]);
      return read.code === 0 && read.stdout === 'live\n' ? read.stdout : undefined;
    }, 60_000, 'the live read through A');
    expect(live).toBe('live\n');
    await a.clOk(['kill', run]);
    expect(await b.waitForState(run, ['killed'], 90_000)).toBe('killed');
  }, 240_000);

  it('keeps scheduling after the scheduling server is killed: the other takes the lease', async () => {
    await a.killServer('SIGKILL');
    const run = await b.clOk(['run', 'echo after > after.txt']);
    expect((await b.cl(['wait', run], { timeoutMs: 120_000 })).code, logs()).toBe(0);
    expect(await b.clOk(['cat', `${run}/after.txt`])).toBe('after');
    expect(serverLog(b)).toContain(LEASE_LINE);
  }, 180_000);
});
