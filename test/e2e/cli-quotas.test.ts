// End-to-end: quotas through bin/cl against a real server and a real shared (root) worker on
// Docker: a run over its owner's time quota is killed with the reason, new runs are refused,
// cl uinfo shows the use, and cl uedit is root's alone; removing access locks the user out.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, type ClResult } from './harness.js';
import { expectOneLineError } from './cl-assertions.js';

let cluster: Cluster;
const ALICE = { name: 'quota-alice', password: 'quota-alice-password' };

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-quotas-shared' });
  const token = await cluster.token();
  const created = await fetch(`${cluster.url}/rest/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ user_name: ALICE.name, password: ALICE.password }),
  });
  expect(created.status, await created.text()).toBe(200);
  await cluster.clOk(['work', `${cluster.url}::`]);
  expect((await asAlice(['work', `${cluster.url}::`])).code, cluster.describeLogs()).toBe(0);
});

afterAll(async () => {
  await cluster?.stop();
});

/** bin/cl as alice, with a CODALAB_HOME of her own. */
function asAlice(args: string[]): Promise<ClResult> {
  return cluster.cl(args, {
    env: { CODALAB_HOME: join(cluster.root, 'alice-home'), CODALAB_USERNAME: ALICE.name, CODALAB_PASSWORD: ALICE.password },
  });
}

describe('quotas through cl', () => {
  it('kills a run on a shared worker at the time quota with the reason, then refuses new runs', async () => {
    expect(await cluster.clOk(['uedit', ALICE.name, '-t', '2s'])).toMatch(/^time +: 0s used \/ 2s \(0%\)$/m);
    const started = await asAlice(['run', 'sleep 300']);
    expect(started.code, started.stderr).toBe(0);
    const uuid = started.stdout.trim();
    await cluster.waitForState(uuid, ['killed', 'failed', 'ready'], 180_000);
    expect(await cluster.clOk(['info', '-f', 'state', uuid])).toBe('killed');
    expect(await cluster.clOk(['info', '-f', 'failure_message', uuid])).toMatch(
      /^Kill requested: time quota exceeded \(\d+(\.\d)?s used of 2s on shared workers\)/,
    );
    expectOneLineError(await asAlice(['run', 'echo hi']), /^cl: Time quota exceeded: .* used of 2s on shared workers\. .*cl uedit/);
    const info = await asAlice(['uinfo']);
    expect(info.stdout).toMatch(/^time +: \S+ used \/ 2s \(\d+%\)$/m);
    expect(info.stdout).toMatch(/^disk +: \S+ used \/ 1t \(0%\)$/m);
    expect(info.stdout).toMatch(/^parallel runs: 0 of 100 on shared workers$/m);
  });

  it('refuses cl uedit to a user who is not root, in one line, changing nothing', async () => {
    expectOneLineError(await asAlice(['uedit', ALICE.name, '-d', '5t']), /^cl: Only root may change quotas or access \(cl uedit\); nothing was changed\.$/);
    expect(await cluster.clOk(['uinfo', ALICE.name, '-f', 'disk_quota,has_access'])).toBe(`${1024 ** 4}\ttrue`);
  });

  it('locks a user out with --remove-access and lets them back with --grant-access', async () => {
    await cluster.clOk(['uedit', ALICE.name, '--remove-access']);
    expectOneLineError(await asAlice(['uinfo']), /Account disabled; ask the server's administrator\./);
    await cluster.clOk(['uedit', ALICE.name, '--grant-access']);
    expect((await asAlice(['uinfo', '-f', 'user_name'])).stdout).toBe(`${ALICE.name}\n`);
  });
});
