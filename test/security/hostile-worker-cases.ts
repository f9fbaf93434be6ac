// Rows of the hostile-input suite: tokens on the wrong side (a user session's on worker routes, a
// worker's on user routes), a worker reading a bundle none of its runs depends on, a worker acting
// on runs that are not its own — a wrong assignment id, another worker id, another user's worker id — and run results
// that climb out, hold devices or write through links; and a real run whose container leaves a
// link to `/` in its results. Refusals change nothing; stored links stay links.
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { bundleOpsRoutes, liveRoutes, routes, type AcceptedResponse, type Bundle, type MessagesResponse } from '../../src/protocol/index.js';
import { waitFor } from '../e2e/harness.js';
import { buildTar, type TarEntrySpec } from './archive-harness.js';
import { createdBundle } from './hostile-body-cases.js';
import { INTRUDER_QUEUE, expectHttpRefusal, intruderCheckin, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call, type Answer } from './security-helpers.js';

type Case = HostileCase<HostileContext>;

/**
 * A run of root's on the intruder's queue, assigned to the intruder and started by it (so that no
 * timeout moves it during the case); returns `uuid assignment`.
 */
async function startedIntruderRun(ctx: HostileContext): Promise<string> {
  const created = await call(ctx.url, 'POST', routes.createBundle(ctx.root.home), {
    token: ctx.root.token,
    json: { bundle_type: 'run', command: 'true', metadata: { name: 'intruder-run', request_queue: INTRUDER_QUEUE }, dependencies: [] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const uuid = (created.body as Bundle).uuid;
  const assignment = await waitFor(async () => {
    const answer = await call(ctx.url, 'GET', routes.messages(ctx.intruder.id, 1), { token: ctx.root.workerToken });
    const message = (answer.body as MessagesResponse).messages.find((m) => m.type === 'run' && m.run.uuid === uuid);
    return message?.type === 'run' ? message.assignment_id : undefined;
  }, 30_000, `run ${uuid} to be assigned to the intruder`);
  const started = await call(ctx.url, 'POST', routes.startRun(ctx.intruder.id, uuid), { token: ctx.root.workerToken, json: { assignment_id: assignment, hostname: 'intruder' } });
  expect((started.body as AcceptedResponse).accepted, JSON.stringify(started.body)).toBe(true);
  return `${uuid} ${assignment}`;
}

function split(prepared: string): { uuid: string; assignment: string } {
  const [uuid = '', assignment = ''] = prepared.split(' ');
  return { uuid, assignment };
}

/** Not accepted: a 4xx error, or a 200 whose `accepted` is false; the result says which. */
function expectNotAccepted(answer: Answer, reason: RegExp): string {
  if (answer.status === 200) {
    const body = answer.body as AcceptedResponse;
    expect(body.accepted, JSON.stringify(body)).toBe(false);
    expect(body.reason ?? '').toMatch(reason);
    return `200 accepted=false: ${body.reason ?? ''}`;
  }
  expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  const error = (answer.body as { error: { code: string; message: string } }).error;
  expect(error.message).toMatch(reason);
  return `${answer.status} ${error.code}: ${error.message}`;
}

type Act = (ctx: HostileContext, run: { uuid: string; assignment: string }) => Promise<Answer>;

function foreignReport(attack: string, act: Act, reason: RegExp): Case {
  return {
    family: 'worker',
    attack,
    expected: 'not accepted',
    prepare: startedIntruderRun,
    attempt: async (ctx, prepared): Promise<Outcome> => ({ result: expectNotAccepted(await act(ctx, split(prepared)), reason) }),
  };
}

const finishBody = (assignment: string) => ({ assignment_id: assignment, exitcode: 0, failure_message: null, killed: false, progress: {} });
const tar = async (entries: TarEntrySpec[]) => buildTar([{ name: './stdout', data: 'done\n' }, ...entries]);
const putResults = (ctx: HostileContext, workerId: string, uuid: string, assignment: string, bytes: Buffer, token = ctx.root.workerToken) =>
  call(ctx.url, 'PUT', routes.runContents(workerId, uuid, assignment), { token, bytes });
const NOT_ASSIGNED = /The run is no longer assigned to this worker/;
const inPlace = (ctx: HostileContext, workerId: string, uuid: string, assignment: string, token = ctx.root.workerToken) =>
  call(ctx.url, 'POST', routes.runContentsInPlace(workerId, uuid, assignment), { token, json: {} });

function resultsRefused(attack: string, entries: (ctx: HostileContext) => TarEntrySpec[], reason: RegExp): Case {
  return foreignReport(`run results: ${attack}`, async (ctx, run) => putResults(ctx, ctx.intruder.id, run.uuid, run.assignment, await tar(entries(ctx))), reason);
}

const climb = (ctx: HostileContext, leaf: string) => `./${'../'.repeat(40)}${ctx.canary.dir.slice(1)}/${leaf}`;

/** A request with the wrong kind of token for its route: refused with 403 before anything is read or changed. */
function wrongToken(attack: string, method: string, path: (ctx: HostileContext) => string, token: (ctx: HostileContext) => string, reason: RegExp, json?: unknown): Case {
  return {
    family: 'worker-token',
    attack,
    expected: '403 forbidden',
    attempt: async (ctx): Promise<Outcome> => {
      const body = json === undefined ? {} : method === 'PUT' ? { bytes: Buffer.from('x') } : { json };
      return { result: expectHttpRefusal(await call(ctx.url, method, path(ctx), { token: token(ctx), ...body }), 403, 'forbidden', reason) };
    },
  };
}

const USER_ON_WORKER_ROUTE = /^Worker routes need a worker token: this is a user session's token\.$/;
const WORKER_ON_USER_ROUTE = /^This is a worker token; it is accepted only on worker routes\.$/;
const userToken = (ctx: HostileContext) => ctx.root.token;
const workerToken = (ctx: HostileContext) => ctx.root.workerToken;
const FORGED = { assignment_id: 'forged', hostname: 'x' };

const tokenCases: Case[] = [
  wrongToken('user token: worker check-in', 'POST', (ctx) => routes.checkin(ctx.intruder.id), userToken, USER_ON_WORKER_ROUTE, intruderCheckin()),
  wrongToken('user token: worker messages', 'GET', (ctx) => routes.messages(ctx.intruder.id, 0), userToken, USER_ON_WORKER_ROUTE),
  wrongToken('user token: run start', 'POST', (ctx) => routes.startRun(ctx.intruder.id, ctx.root.run), userToken, USER_ON_WORKER_ROUTE, FORGED),
  wrongToken('user token: results upload', 'PUT', (ctx) => routes.runContents(ctx.intruder.id, ctx.root.run, 'forged'), userToken, USER_ON_WORKER_ROUTE, 'bytes'),
  wrongToken('user token: results in place', 'POST', (ctx) => routes.runContentsInPlace(ctx.intruder.id, ctx.root.run, 'forged'), userToken, USER_ON_WORKER_ROUTE, {}),
  wrongToken('user token: run finish', 'POST', (ctx) => routes.finishRun(ctx.intruder.id, ctx.root.run), userToken, USER_ON_WORKER_ROUTE, finishBody('forged')),
  wrongToken('user token: live reply', 'PUT', (ctx) => liveRoutes.reply(ctx.intruder.id, 'some-request'), userToken, USER_ON_WORKER_ROUTE, 'bytes'),
  wrongToken('user token: dependency read', 'GET', (ctx) => routes.dependencyBlob(ctx.intruder.id, ctx.root.data, ''), userToken, USER_ON_WORKER_ROUTE),
  wrongToken('worker token: bundle info', 'GET', (ctx) => routes.bundle(ctx.root.data), workerToken, WORKER_ON_USER_ROUTE),
  wrongToken('worker token: cat', 'GET', (ctx) => routes.contentsBlob(ctx.root.data, 'a.txt'), workerToken, WORKER_ON_USER_ROUTE),
  wrongToken('worker token: create a bundle', 'POST', (ctx) => routes.createBundle(ctx.root.home), workerToken, WORKER_ON_USER_ROUTE, { bundle_type: 'dataset', metadata: { name: 'w' } }),
  wrongToken('worker token: search', 'POST', () => bundleOpsRoutes.search(), workerToken, WORKER_ON_USER_ROUTE, { keywords: [] }),
  wrongToken('worker token: workers list (cl workers)', 'GET', () => routes.workersInfo(), workerToken, WORKER_ON_USER_ROUTE),
  {
    family: 'worker-token',
    attack: 'worker reads a bundle none of its runs depends on',
    expected: '404 not_found',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, 'GET', routes.dependencyBlob(ctx.intruder.id, ctx.root.data, 'a.txt'), { token: ctx.root.workerToken });
      return { result: expectHttpRefusal(answer, 404, 'not_found', /^No dependency .* of a run this worker holds\.$/) };
    },
  },
];

export const workerCases: Case[] = [
  ...tokenCases,
  foreignReport('start with a wrong assignment id', (ctx, run) => call(ctx.url, 'POST', routes.startRun(ctx.intruder.id, run.uuid), { token: ctx.root.workerToken, json: { assignment_id: 'forged', hostname: 'x' } }), NOT_ASSIGNED),
  foreignReport('finish with a wrong assignment id', (ctx, run) => call(ctx.url, 'POST', routes.finishRun(ctx.intruder.id, run.uuid), { token: ctx.root.workerToken, json: finishBody('forged') }), NOT_ASSIGNED),
  foreignReport('results uploaded with a wrong assignment id', async (ctx, run) => putResults(ctx, ctx.intruder.id, run.uuid, 'forged', await tar([])), NOT_ASSIGNED),
  // Another worker id of the same owner that names the run's assignment adopts the run, by design
  // (a worker restarted under a new --id); without the assignment it is refused.
  foreignReport('finish from another worker id, without the assignment', (ctx, run) => call(ctx.url, 'POST', routes.finishRun('ghost', run.uuid), { token: ctx.root.workerToken, json: finishBody('forged') }), NOT_ASSIGNED),
  foreignReport('results from another worker id, without the assignment', async (ctx, run) => putResults(ctx, 'ghost', run.uuid, 'forged', await tar([])), NOT_ASSIGNED),
  foreignReport('start from another worker id, without the assignment', (ctx, run) => call(ctx.url, 'POST', routes.startRun('ghost', run.uuid), { token: ctx.root.workerToken, json: { assignment_id: 'forged', hostname: 'x' } }), NOT_ASSIGNED),
  foreignReport('results in place with a wrong assignment id', (ctx, run) => inPlace(ctx, ctx.intruder.id, run.uuid, 'forged'), NOT_ASSIGNED),
  foreignReport("results in place by alice's worker of the same id", (ctx, run) => inPlace(ctx, ctx.intruder.id, run.uuid, run.assignment, ctx.alice.workerToken), NOT_ASSIGNED),
  // The intruder's own run, by its own assignment: a worker not sharing the server's disk left nothing there.
  foreignReport('results in place that were never left in the store', (ctx, run) => inPlace(ctx, ctx.intruder.id, run.uuid, run.assignment), /^No results of run 0x[0-9a-f]+ are at .*; upload them instead\.$/),
  foreignReport("finish by alice's worker of the same id", (ctx, run) => call(ctx.url, 'POST', routes.finishRun(ctx.intruder.id, run.uuid), { token: ctx.alice.workerToken, json: finishBody(run.assignment) }), NOT_ASSIGNED),
  foreignReport("results by alice's worker of the same id", async (ctx, run) => putResults(ctx, ctx.intruder.id, run.uuid, run.assignment, await tar([]), ctx.alice.workerToken), NOT_ASSIGNED),
  foreignReport("start by alice's worker of the same id", (ctx, run) => call(ctx.url, 'POST', routes.startRun(ctx.intruder.id, run.uuid), { token: ctx.alice.workerToken, json: { assignment_id: run.assignment, hostname: 'x' } }), NOT_ASSIGNED),
  {
    family: 'worker',
    attack: "report (check-in) of the intruder's run by alice's worker of the same id, naming its assignment",
    expected: 'ignored: told to drop the run; the run stays as it is',
    // Alice's worker has checked in once (its own row), so the claim is all this check-in changes.
    prepare: async (ctx) => {
      const first = await call(ctx.url, 'POST', routes.checkin(ctx.intruder.id), { token: ctx.alice.workerToken, json: intruderCheckin('alice-claims') });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      return startedIntruderRun(ctx);
    },
    attempt: async (ctx, prepared): Promise<Outcome> => {
      const run = split(prepared);
      const claim = { ...intruderCheckin('alice-claims'), runs: [{ uuid: run.uuid, assignment_id: run.assignment, state: 'finalizing', progress: {} }] };
      const answer = await call(ctx.url, 'POST', routes.checkin(ctx.intruder.id), { token: ctx.alice.workerToken, json: claim });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const { messages } = answer.body as MessagesResponse;
      expect(messages).toContainEqual(expect.objectContaining({ type: 'kill', uuid: run.uuid, message: 'This run is no longer assigned to this worker.' }));
      const after = (await call(ctx.url, 'GET', routes.bundle(run.uuid), { token: ctx.root.token })).body as Bundle;
      expect(after.state).toBe('preparing');
      return { result: '200; told to drop it; the run is still preparing' };
    },
  },
  foreignReport("finish of root's live run (on the real worker) by the intruder", (ctx, run) => call(ctx.url, 'POST', routes.finishRun(ctx.intruder.id, ctx.root.run), { token: ctx.root.workerToken, json: finishBody(run.assignment) }), NOT_ASSIGNED),
  resultsRefused("entry climbing to a canary file", (ctx) => [{ name: climb(ctx, 'victim.txt'), data: 'pwned' }], /points outside the bundle/),
  resultsRefused('absolute entry naming a canary file', (ctx) => [{ name: `${ctx.canary.dir}/victim.txt`, data: 'pwned' }], /points outside the bundle/),
  resultsRefused('link to the canary dir, then a file through it', (ctx) => [{ name: './l', type: 'symlink', linkname: ctx.canary.dir }, { name: './l/victim.txt', data: 'pwned' }], /lies below 'l', which is a symbolic link/),
  resultsRefused('hard link to /etc/passwd', () => [{ name: './h', type: 'link', linkname: '/etc/passwd' }], /hard link/),
  resultsRefused('character device', () => [{ name: './tty', type: 'character-device', devmajor: 5, devminor: 0 }], /entry 'tty' is a character device/),
  resultsRefused('block device', () => [{ name: './disk', type: 'block-device', devmajor: 8, devminor: 0 }], /entry 'disk' is a block device/),
  resultsRefused('FIFO', () => [{ name: './pipe', type: 'fifo' }], /entry 'pipe' is a FIFO/),
  {
    family: 'worker',
    attack: 'check-in claiming a run assigned to another worker',
    expected: 'ignored: the run stays as it is',
    // A worker of its own (on a queue nobody uses), so that the claim is all its check-in reports.
    prepare: async (ctx) => {
      const first = await call(ctx.url, 'POST', routes.checkin('claimer'), { token: ctx.root.workerToken, json: intruderCheckin('claimer-queue') });
      expect(first.status).toBe(200);
      return '';
    },
    attempt: async (ctx): Promise<Outcome> => {
      const claim = { ...intruderCheckin('claimer-queue'), runs: [{ uuid: ctx.root.run, assignment_id: 'forged', state: 'finalizing', progress: {} }] };
      const answer = await call(ctx.url, 'POST', routes.checkin('claimer'), { token: ctx.root.workerToken, json: claim });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const run = (await call(ctx.url, 'GET', routes.bundle(ctx.root.run), { token: ctx.root.token })).body as Bundle;
      expect(run.state).toBe('running');
      return { result: '200; the run is still running' };
    },
  },
  {
    family: 'live',
    attack: 'a container that leaves links to / and /etc/passwd in its results',
    expected: 'stored as links, never the host files',
    attempt: async (ctx): Promise<Outcome> => {
      const uuid = await ctx.cluster.clOk(['run', 'ln -s / rootlink && ln -s /etc/passwd pw && echo done', '-n', 'leaves-links']);
      await ctx.cluster.waitForState(uuid, ['ready', 'failed'], 120_000);
      expect(await ctx.cluster.clOk(['info', '-f', 'state', uuid])).toBe('ready');
      const stored = join(ctx.cluster.serverHome, 'store', 'bundles', uuid);
      for (const [name, target] of [['rootlink', '/'], ['pw', '/etc/passwd']] as const) {
        expect((await lstat(join(stored, name))).isSymbolicLink()).toBe(true);
        expect(await readlink(join(stored, name))).toBe(target);
      }
      // cl cat of a link shows the link itself; nothing of the host's /etc/passwd comes back.
      const cat = await ctx.cluster.cl(['cat', `${uuid}/pw`]);
      expect(cat.code, cat.stderr).toBe(0);
      expect(cat.stdout).not.toContain('root:x:0:0');
      const through = await call(ctx.url, 'GET', routes.contentsBlob(uuid, 'rootlink/etc/passwd'), { token: ctx.root.token });
      expect(through.status).toBe(404);
      return { result: 'ready; rootlink -> /, pw -> /etc/passwd kept as links; reads through them 404', allowed: createdBundle(uuid) };
    },
  },
];
