// End-to-end: one server shared by root and two ordinary users, each with a cl session of their
// own and a worker of their own (real processes, real Docker). Private data stays private, sharing
// through a group works, each private worker takes only its owner's runs (and a --group worker its
// group's), and quotas stop excess with clear messages. Which worker ran a run is read from the
// workers' own logs, which name every run they take (`run=0x...`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError } from './cl-assertions.js';
import { Cluster, DEFAULT_IMAGE, waitFor, type ClResult } from './harness.js';

type Client = (args: string[]) => Promise<ClResult>;

let cluster: Cluster;
let alice: Client;
let bob: Client;
let root: Client;
let secret: string;

const WORKERS = ['shared', 'alice-box', 'bob-box', 'lab-box'] as const;
const LAB_QUEUE = 'lab-queue';

/** The worker's password file: the user on line 1, the password on line 2. */
function workerPasswordFile(user: string, password: string): string {
  const file = join(cluster.root, `${user}.pw`);
  writeFileSync(file, `${user}\n${password}\n`, { mode: 0o600 });
  return file;
}

async function userClient(user: string): Promise<Client> {
  const password = `${user}-password-1`;
  await cluster.clOk(['unew', user, '--password-stdin'], { input: `${password}\n` });
  workerPasswordFile(user, password);
  const env = { CODALAB_HOME: join(cluster.root, `home-${user}`), CODALAB_USERNAME: user, CODALAB_PASSWORD: password };
  const cl: Client = (args) => cluster.cl(args, { env });
  expect((await cl(['work', `${cluster.url}::`])).code).toBe(0);
  return cl;
}

async function ok(cl: Client, args: string[]): Promise<string> {
  const result = await cl(args);
  expect(result.code, `cl ${args.join(' ')}: ${result.stderr}\n${cluster.describeLogs()}`).toBe(0);
  return result.stdout.trim();
}

/** The ids of the workers `cl workers` lists for this client. */
async function workerIds(cl: Client): Promise<string[]> {
  return (JSON.parse(await ok(cl, ['workers', '--json'])) as { id: string }[]).map((w) => w.id).sort();
}

/** The workers whose logs name the run. */
function workersThatRan(uuid: string): string[] {
  return WORKERS.filter((id) => readFileSync(join(cluster.root, `worker-${id}.log`), 'utf8').includes(`run=${uuid}`));
}

async function finished(cl: Client, uuid: string): Promise<string> {
  await cl(['wait', uuid]);
  return ok(cl, ['info', '-f', 'state', uuid]);
}

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  root = (args) => cluster.cl(args);
  await ok(root, ['work', `${cluster.url}::`]);
  alice = await userClient('alice');
  bob = await userClient('bob');
  await ok(alice, ['gnew', 'lab']);
  await ok(alice, ['uadd', 'bob', 'lab']);
  const common = ['--slots', '1', '--gpuset', 'NONE'];
  cluster.startWorker({ id: 'shared', extraArgs: common });
  cluster.startWorker({ id: 'alice-box', extraArgs: [...common, '--password-file', join(cluster.root, 'alice.pw')] });
  cluster.startWorker({ id: 'bob-box', extraArgs: [...common, '--password-file', join(cluster.root, 'bob.pw')] });
  // Bob's second worker serves the lab group, on a queue of its own so the test decides what goes there.
  cluster.startWorker({
    id: 'lab-box',
    tag: LAB_QUEUE,
    extraArgs: [...common, '--tag-exclusive', '--group', 'lab', '--password-file', join(cluster.root, 'bob.pw')],
  });
  await waitFor(async () => ((await workerIds(root)).length === WORKERS.length ? true : undefined), 60_000, 'all four workers to check in');
  secret = await ok(alice, ['upload', '-c', 'alice secret text', '-n', 'alice-secret']);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a server shared by root, alice and bob', () => {
  it("keeps alice's data from bob until she shares it", async () => {
    expectOneLineError(await bob(['info', 'alice-secret']), /^cl: No bundle named 'alice-secret'\.$/);
    expectOneLineError(await bob(['cat', secret]), /is private: you have no permission on it/);
    expect(await ok(bob, ['search', 'alice', '-u'])).toBe('');
    expectOneLineError(await bob(['run', `d:${secret}`, 'cat d']), /is private: a run may only depend on bundles its owner can read/);
    expect(await ok(root, ['cat', secret])).toBe('alice secret text');
  });

  it("runs each user's runs on their own worker, and root's on the shared one", async () => {
    const byAlice = await ok(alice, ['run', 'echo from alice']);
    const byBob = await ok(bob, ['run', 'echo from bob']);
    const byRoot = await ok(root, ['run', 'echo from root']);
    for (const [cl, uuid] of [[alice, byAlice], [bob, byBob], [root, byRoot]] as const) expect(await finished(cl, uuid)).toBe('ready');
    expect(workersThatRan(byAlice)).toEqual(['alice-box']);
    expect(workersThatRan(byBob)).toEqual(['bob-box']);
    expect(workersThatRan(byRoot)).toEqual(['shared']);
    // Each sees the shared worker, their own, and their group's; never another user's own.
    expect(await workerIds(alice)).toEqual(['alice-box', 'lab-box', 'shared']);
    expect(await workerIds(bob)).toEqual(['bob-box', 'lab-box', 'shared']);
  });

  it('shares through a group: bob reads and runs on what alice gave the lab read on', async () => {
    await ok(alice, ['perm', secret, 'lab', 'read']);
    expect(await ok(bob, ['cat', secret])).toBe('alice secret text');
    const run = await ok(bob, ['run', `d:${secret}`, 'cat d']);
    expect(await finished(bob, run)).toBe('ready');
    expect(await ok(bob, ['cat', `${run}/stdout`])).toBe('alice secret text');
    expect(workersThatRan(run)).toEqual(['bob-box']);
    // Read is not all.
    expectOneLineError(await bob(['edit', secret, '-n', 'renamed']), /needs 'all' permission, and you have 'read'/);
  });

  it("gives a --group worker its group members' runs and not root's", async () => {
    const byAlice = await ok(alice, ['run', 'echo lab run', '--request-queue', LAB_QUEUE]);
    expect(await finished(alice, byAlice)).toBe('ready');
    expect(workersThatRan(byAlice)).toEqual(['lab-box']);
    const byRoot = await ok(root, ['run', 'echo not for the lab', '--request-queue', LAB_QUEUE]);
    // Root is not in the lab: for root's run the lab's worker does not exist.
    const reason = await waitFor(async () => {
      const status = await ok(root, ['info', '-f', 'staged_status', byRoot]);
      return status.startsWith('No worker') ? status : undefined;
    }, 30_000, "root's run to wait with the reason");
    expect(reason).toBe(`No worker can take this run: no worker serves queue ${LAB_QUEUE}.`);
    await ok(root, ['kill', byRoot]);
  });

  it('stops excess at the quotas with clear messages', async () => {
    await ok(root, ['uedit', 'alice', '-d', '10']);
    expectOneLineError(await alice(['upload', '-c', 'more', '-n', 'over']), /^cl: Disk quota exceeded: .* used of 10( bytes)?\./);
    expectOneLineError(await alice(['run', 'echo over']), /^cl: Disk quota exceeded/);
    await ok(root, ['uedit', 'alice', '-d', '1t']);
    // Runs on alice's own worker do not count against her shared-worker quotas.
    await ok(root, ['uedit', 'alice', '-p', '0', '-t', '1']);
    const own = await ok(alice, ['run', 'echo still mine']);
    expect(await finished(alice, own)).toBe('ready');
    expect(workersThatRan(own)).toEqual(['alice-box']);
  });
});
