// The one shared setup of the hostile-input suite: a real cl-server (bin/cl-server) with one real
// cl-worker on Docker, root and a second user (alice) each with a home worksheet and a ready
// dataset, a running run of root's, a scripted "intruder" worker on its own queue, and a canary
// directory of host files outside the server's home. Cases only read it; each makes what it changes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { WORKER_CLIENT_ID, routes, type Bundle, type Worksheet } from '../../src/protocol/index.js';
import { Cluster, DEFAULT_IMAGE, waitFor, type ClResult } from '../e2e/harness.js';
import { makeCanary, type Canary, type SnapshotTarget } from './hostile-snapshot.js';
import { call, checkinBody, createUser, errorOf, login, type Answer } from './security-helpers.js';

export interface HostileContext {
  cluster: Cluster;
  url: string;
  canary: Canary;
  /** `workerToken`: the user's worker token (client id codalab_worker_client), for worker routes. */
  root: { token: string; workerToken: string; home: string; data: string; run: string };
  alice: { token: string; workerToken: string; home: string; data: string; env: Record<string, string> };
  /** A scripted worker of root's on an exclusive queue: runs on that queue go to it alone. */
  intruder: { id: string; queue: string };
}

export const INTRUDER_QUEUE = 'intruder-queue';

export function snapshotTarget(ctx: HostileContext): SnapshotTarget {
  return {
    database: join(ctx.cluster.serverHome, 'codalab.sqlite'),
    store: join(ctx.cluster.serverHome, 'store'),
    hostDirs: [ctx.canary.parent],
  };
}

export async function startHostileContext(): Promise<HostileContext> {
  const cluster = new Cluster();
  // The scripted intruder worker checks in once: it must not be counted as gone mid-suite.
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE, '--worker-timeout-seconds', '3600']);
  cluster.startWorker({ id: 'hostile', extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
  const url = cluster.url;
  const rootToken = await cluster.token();
  const aliceToken = (await createUser(url, rootToken, 'alice', 'alice-password')).token;
  const aliceEnv = { CODALAB_HOME: join(cluster.root, 'alice-home'), CODALAB_USERNAME: 'alice', CODALAB_PASSWORD: 'alice-password' };
  await cluster.clOk(['work', `${url}::`], { env: aliceEnv });

  const files = join(cluster.root, 'files');
  await mkdir(join(files, 'dir'), { recursive: true });
  await writeFile(join(files, 'dir', 'a.txt'), 'inside the bundle\n');
  const rootData = await cluster.clOk(['upload', join(files, 'dir'), '-n', 'root-data']);
  const aliceData = await cluster.clOk(['upload', join(files, 'dir'), '-n', 'alice-data'], { env: aliceEnv });
  // A long-lived run with a directory of its own and a link to `/`, for live reads and writes; it
  // takes one of the worker's CPUs, the other is left for the one case that runs a bundle.
  const liveCommand = 'mkdir -p own && echo mine > own/file && ln -s / rootlink && touch ready && sleep 900';
  const rootRun = await cluster.clOk(['run', liveCommand, '-n', 'root-live']);
  const ctx: HostileContext = {
    cluster,
    url,
    canary: await makeCanary(join(cluster.root, 'host')),
    root: { token: rootToken, workerToken: await cluster.token(undefined, undefined, WORKER_CLIENT_ID), home: await homeOf(url, rootToken), data: rootData, run: rootRun },
    alice: { token: aliceToken, workerToken: await login(url, 'alice', 'alice-password', WORKER_CLIENT_ID), home: await homeOf(url, aliceToken), data: aliceData, env: aliceEnv },
    intruder: { id: 'intruder', queue: INTRUDER_QUEUE },
  };
  const checkin = await call(url, 'POST', routes.checkin(ctx.intruder.id), { token: ctx.root.workerToken, json: intruderCheckin() });
  expect(checkin.status).toBe(200);
  await waitForLive(ctx, rootRun);
  return ctx;
}

/**
 * The scripted workers' check-in: large enough that every run of the suite fits at once, since
 * none of them is ever finished (a staged run assigned mid-case would be a change).
 */
export function intruderCheckin(queue = INTRUDER_QUEUE): ReturnType<typeof checkinBody> {
  return checkinBody({ hostname: 'intruder', tag: queue, tag_exclusive: true, slots: 256, cpus: 256, memory_bytes: 1024 ** 4 });
}

async function homeOf(url: string, token: string): Promise<string> {
  return ((await call(url, 'GET', routes.homeWorksheet(), { token })).body as Worksheet).uuid;
}

/** Waits until the run is running and its `ready` file is readable through the worker. */
async function waitForLive(ctx: HostileContext, uuid: string): Promise<void> {
  await ctx.cluster.waitForState(uuid, ['running'], 120_000);
  await waitFor(async () => {
    const answer = await call(ctx.url, 'GET', routes.contentsInfo(uuid, 'ready'), { token: ctx.root.token });
    return answer.status === 200 ? true : undefined;
  }, 120_000, `${uuid}/ready`);
}

/** An empty dataset of `token`'s user on its home worksheet, to upload into. */
export async function newDataset(ctx: HostileContext, name: string, owner: 'root' | 'alice' = 'root'): Promise<string> {
  const user = ctx[owner];
  const answer = await call(ctx.url, 'POST', routes.createBundle(user.home), { token: user.token, json: { bundle_type: 'dataset', metadata: { name } } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body as Bundle).uuid;
}

/** The refusal's status and error code, with its message matching `pattern`; the outcome's result text. */
export function expectHttpRefusal(answer: Answer, status: number, code: string, pattern: RegExp): string {
  expect(answer.status, JSON.stringify(answer.body).slice(0, 400)).toBe(status);
  const error = errorOf(answer);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(pattern);
  expect(error.message).not.toContain('\n');
  return `${status} ${code}: ${error.message}`;
}

/** cl's refusal: exit 1, nothing on stdout, one line on stderr matching `pattern`. */
export function expectClRefusal(result: ClResult, pattern: RegExp): string {
  expect(result.code, result.stderr.slice(0, 400)).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr.slice(0, 400)).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  return `exit 1: ${lines[0] ?? ''}`;
}

/** A diff line about one bundle's row, in the given columns only. */
export function rowOf(uuid: string, columns = 'state|state_since|metadata'): RegExp {
  return new RegExp(`^~ db bundles\\[uuid=${uuid}\\]\\.(${columns}):`);
}
