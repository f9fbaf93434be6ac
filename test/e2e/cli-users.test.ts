// End-to-end: user accounts and sign-in through `bin/cl` against a real server. Root manages
// users (unew, uls, uinfo, ufarewell, passwd USER); everyone changes their own password; tokens
// are short-lived access tokens renewed with a refresh token (the server runs with a 2-second
// access-token lifetime, so every command here crosses an expiry), revoked by `cl logout` and by
// password changes; sign-up exists only with --allow-signup. Refusals are one line, exit 1, and
// change nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, waitFor, type ClResult } from './harness.js';
import { expectOneLineError } from './cl-assertions.js';

// Short enough that the worker's run outlives several tokens; long enough that a token does not run
// out between a login and the next request on a loaded two-core CI machine (2 s did, now and then).
const ACCESS_TTL_SECONDS = 6;
const ALICE_PASSWORD = 'alice-password-1';
let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--token-ttl-seconds', String(ACCESS_TTL_SECONDS), '--allow-signup', '--default-cpu-image', DEFAULT_IMAGE]);
  await cluster.clOk(['work', `${cluster.url}::`]);
});

afterAll(async () => {
  await cluster?.stop();
});

/** A client of its own (CODALAB_HOME) logged in as `user`, pointed at the cluster's server. */
type Client = ((args: string[], input?: string, pw?: string) => Promise<ClResult>) & { home: string };

async function clientAs(user: string, password: string): Promise<Client> {
  const home = mkdtempSync(join(cluster.root, `home-${user}-`));
  const cl = (args: string[], input?: string, pw = password): Promise<ClResult> =>
    cluster.cl(args, { env: { CODALAB_HOME: home, CODALAB_USERNAME: user, CODALAB_PASSWORD: pw }, ...(input !== undefined ? { input } : {}) });
  const selected = await cl(['work', `${cluster.url}::`]);
  if (selected.code !== 0) throw new Error(`cannot log in as ${user}: ${selected.stderr}`);
  return Object.assign(cl, { home });
}

function cachedAuth(home: string): { token: string; refresh_token?: string } {
  const state = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { instances: Record<string, { auth: { token: string; refresh_token?: string } }> };
  const auth = state.instances[cluster.url]?.auth;
  if (!auth) throw new Error('no cached token');
  return auth;
}

/** Waits until the server refuses this access token (it expired). */
async function waitForExpiry(token: string): Promise<void> {
  await waitFor(
    async () => ((await fetch(`${cluster.url}/rest/user`, { headers: { authorization: `Bearer ${token}` } })).status === 401 ? true : undefined),
    30_000,
    'the access token to expire',
  );
}

async function createUser(name: string, password: string, extra: string[] = []): Promise<string> {
  return cluster.clOk(['unew', name, '--password-stdin', ...extra], { input: `${password}\n` });
}

describe('root manages users', () => {
  it('creates, lists, shows and deletes users; refuses weak passwords and duplicates', async () => {
    const id = await createUser('alice', ALICE_PASSWORD, ['--email', 'alice@example.org']);
    expect(id).toMatch(/^0x[0-9a-f]{32}$/);
    const pwFile = join(cluster.root, 'bob.pw');
    writeFileSync(pwFile, 'bob-password-1\nignored second line\n');
    const bobId = await cluster.clOk(['unew', 'bob', '--password-file', pwFile]);

    expectOneLineError(await cluster.cl(['unew', 'carol', '--password-stdin'], { input: 'short\n' }), /Password too short \(5 characters\): use at least 8/);
    expectOneLineError(await cluster.cl(['unew', 'alice', '--password-stdin'], { input: 'another-password\n' }), /User 'alice' already exists/);
    expectOneLineError(await cluster.cl(['unew', 'dave']), /No terminal to ask for the password: use --password-stdin or --password-file/);

    const table = await cluster.clOk(['uls']);
    expect(table.split('\n')[0]).toMatch(/^name\s+id\s+date_joined\s+last_login$/);
    expect(table).toMatch(/codalab \(root\)/);
    expect(table).toMatch(new RegExp(`alice\\s+${id}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+never`));
    expect((await cluster.clOk(['uls', '-u'])).split('\n')).toEqual(['0', id, bobId]);
    expect(await cluster.clOk(['uls', '-u', 'example.org'])).toBe(id);
    expect(await cluster.clOk(['uls', '-u', '.offset=1', '.limit=1'])).toBe(id);
    expect(await cluster.clOk(['uls', '-u', 'nobody-matches'])).toBe('');

    expect(await cluster.clOk(['uinfo', 'alice', '-f', 'user_name,email,is_root,bundles'])).toBe('alice\talice@example.org\tfalse\t0');
    expectOneLineError(await cluster.cl(['uinfo', 'nobody']), /No user named 'nobody'/);

    await cluster.clOk(['ufarewell', 'bob']);
    expect(await cluster.clOk(['uls', '-u'])).toBe(`0\n${id}`);
    expectOneLineError(await cluster.cl(['ufarewell', 'bob']), /No user named 'bob'/);
    expectOneLineError(await cluster.cl(['ufarewell', 'codalab']), /root user 'codalab' cannot be deleted/);
  });

  it('refuses to delete a user who owns bundles, naming what they own', async () => {
    await createUser('owner', 'owner-password');
    const owner = await clientAs('owner', 'owner-password');
    writeFileSync(join(cluster.root, 'mine.txt'), 'mine\n');
    expect((await owner(['upload', join(cluster.root, 'mine.txt')])).code).toBe(0);
    expectOneLineError(await cluster.cl(['ufarewell', 'owner']), /User 'owner' still owns 1 bundle, 1 non-empty worksheet: delete them/);
    expect(await cluster.clOk(['uinfo', 'owner', '-f', 'user_name,bundles'])).toBe('owner\t1');
  });

  it('refuses root-only commands to others in one line, changing nothing', async () => {
    await createUser('mallory', 'mallory-password');
    const mallory = await clientAs('mallory', 'mallory-password');
    const before = await cluster.clOk(['uls', '-u']);
    expectOneLineError(await mallory(['unew', 'eve', '--password-stdin'], 'eve-password-1\n'), /Only root may create users; you are 'mallory'/);
    expectOneLineError(await mallory(['uls']), /Only root may list users; you are 'mallory'/);
    expectOneLineError(await mallory(['ufarewell', 'alice']), /Only root may delete users; you are 'mallory'/);
    expectOneLineError(await mallory(['uinfo', 'alice']), /Only root may see another user's account/);
    expectOneLineError(await mallory(['passwd', 'alice', '--password-stdin'], 'hijacked-password\n'), /Only root may change another user's password/);
    expect(await cluster.clOk(['uls', '-u'])).toBe(before);
    // Their own account they see, with its private fields.
    expect((await mallory(['uinfo', '-f', 'user_name,is_root'])).stdout).toBe('mallory\tfalse\n');
    const alice = await clientAs('alice', ALICE_PASSWORD);
    expect((await alice(['uinfo', '-f', 'user_name'])).stdout).toBe('alice\n');
  });
});

describe('tokens', () => {
  it('renews an expired access token with the refresh token, without the password', async () => {
    await createUser('refresher', 'refresher-password');
    const cl = await clientAs('refresher', 'refresher-password');
    const first = cachedAuth(cl.home);
    expect(first.refresh_token).toBeDefined();
    await waitForExpiry(first.token);
    // A wrong password in the environment proves that no password login happened.
    const result = await cl(['uinfo', '-f', 'user_name'], undefined, 'wrong-password');
    expect(result.stdout, result.stderr).toBe('refresher\n');
    const second = cachedAuth(cl.home);
    expect(second.token).not.toBe(first.token);
    expect(second.refresh_token).toBe(first.refresh_token);
  });

  it('cl logout revokes the refresh token on the server', async () => {
    await createUser('leaver', 'leaver-password');
    const cl = await clientAs('leaver', 'leaver-password');
    const { refresh_token: refresh } = cachedAuth(cl.home);
    const out = await cl(['logout']);
    expect(out.stderr).toMatch(/Logged out of/);
    const answer = await fetch(`${cluster.url}/rest/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refresh }),
    });
    expect(answer.status).toBe(401);
    expect(await answer.text()).toMatch(/Unknown or revoked refresh token/);
    expectOneLineError(await cl(['uinfo'], undefined, 'wrong-password'), /Cannot log in to .* as 'leaver': Wrong user name or password/);
  });

  it('a password change ends the other sessions; this client stays logged in', async () => {
    await createUser('changer', 'changer-password');
    const here = await clientAs('changer', 'changer-password');
    const there = await clientAs('changer', 'changer-password');
    expectOneLineError(await here(['passwd', '--password-stdin'], 'not-my-password\nnew-changer-password\n'), /Wrong user name or password/);
    expectOneLineError(await here(['passwd', '--password-stdin'], 'changer-password\nshort\n'), /Password too short/);
    const changed = await here(['passwd', '--password-stdin'], 'changer-password\nnew-changer-password\n');
    expect(changed.code, changed.stderr).toBe(0);
    // The other client's access and refresh tokens are gone; its old password no longer works.
    expectOneLineError(await there(['uinfo']), /Cannot log in to .* as 'changer': Wrong user name or password/);
    expect((await there(['uinfo', '-f', 'user_name'], undefined, 'new-changer-password')).stdout).toBe('changer\n');
    // This client logged in again with the new password (the environment's old one is never tried).
    expect((await here(['uinfo', '-f', 'user_name'], undefined, 'wrong-password')).stdout).toBe('changer\n');
  });

  it('root resets a password without the old one, ending that user\'s sessions', async () => {
    await createUser('forgetful', 'forgetful-password');
    const cl = await clientAs('forgetful', 'forgetful-password');
    await cluster.clOk(['passwd', 'forgetful', '--password-stdin'], { input: 'reset-by-root-1\n' });
    expectOneLineError(await cl(['uinfo']), /Cannot log in .* as 'forgetful'/);
    expect((await cl(['uinfo', '-f', 'user_name'], undefined, 'reset-by-root-1')).stdout).toBe('forgetful\n');
  });

  it('a worker keeps working across access-token expiry (it logs in again)', async () => {
    cluster.startWorker({ id: 'e2e-users' });
    const uuid = await cluster.clOk(['run', `sleep ${ACCESS_TTL_SECONDS * 2}; echo done`]);
    expect(await cluster.waitForState(uuid, ['ready', 'failed', 'killed'], 120_000)).toBe('ready');
    expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('done');
  });
});

describe('sign-up', () => {
  it('creates a non-root account and logs in, when the server allows it', async () => {
    const home = mkdtempSync(join(cluster.root, 'home-signup-'));
    const env = { CODALAB_HOME: home, CODALAB_USERNAME: undefined, CODALAB_PASSWORD: undefined };
    await cluster.clOk(['work', `${cluster.url}::`], { env: { ...env, CODALAB_USERNAME: 'alice', CODALAB_PASSWORD: ALICE_PASSWORD } });
    const id = await cluster.clOk(['signup', 'newbie', '--password-stdin'], { env, input: 'newbie-password\n' });
    expect(id).toMatch(/^0x[0-9a-f]{32}$/);
    expect(await cluster.clOk(['uinfo', '-f', 'user_name,is_root'], { env })).toBe('newbie\tfalse');
    expectOneLineError(await cluster.cl(['signup', 'newbie', '--password-stdin'], { env, input: 'newbie-password\n' }), /User 'newbie' already exists/);
    expectOneLineError(await cluster.cl(['signup', 'weakling', '--password-stdin'], { env, input: 'weak\n' }), /Password too short/);
  });

  it('is refused with a clear line when the server does not allow it', async () => {
    const closed = new Cluster();
    try {
      await closed.startServer();
      await closed.clOk(['work', `${closed.url}::`]);
      expectOneLineError(
        await closed.cl(['signup', 'newbie', '--password-stdin'], { input: 'newbie-password\n' }),
        /Sign-up is off on this server; ask its administrator for an account\./,
      );
      expect(await closed.clOk(['uls', '-u'])).toBe('0');
    } finally {
      await closed.stop();
    }
  });
});
