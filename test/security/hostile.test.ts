// The hostile-input suite: every attack that applies to today's server, one row each, run against
// one real cl-server with one real cl-worker on Docker (and, for expired tokens, a server on a fake
// clock). Each row asserts its specific refusal and that the database, the bundle store and the
// host files outside the server's home are as they were; the table is printed at the end.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { accessCases } from './hostile-access-cases.js';
import { archiveCases } from './hostile-archive-cases.js';
import { bodyCases } from './hostile-body-cases.js';
import { snapshotTarget, startHostileContext, type HostileContext } from './hostile-context.js';
import { expiryCases, expirySnapshotTarget, startExpiryContext, type ExpiryContext } from './hostile-expiry-cases.js';
import { pathCases } from './hostile-path-cases.js';
import { privacyCases } from './hostile-privacy-cases.js';
import { formatTable, runCase, type TableRow } from './hostile-table.js';
import { workerCases } from './hostile-worker-cases.js';

const rows: TableRow[] = [];
const CASE_TIMEOUT_MS = 150_000;

afterAll(() => {
  process.stdout.write(`\nHostile-input suite\n${formatTable(rows)}\n`);
});

describe('hostile inputs against a shared server and worker', () => {
  let ctx: HostileContext;

  beforeAll(async () => {
    ctx = await startHostileContext();
  }, 300_000);

  afterAll(async () => {
    await ctx?.cluster.stop();
  });

  for (const c of [...archiveCases, ...pathCases, ...bodyCases, ...accessCases, ...privacyCases, ...workerCases]) {
    it(`${c.family}: ${c.attack} -> ${c.expected}`, () => runCase(ctx, snapshotTarget, c, rows), CASE_TIMEOUT_MS);
  }
});

describe('hostile inputs that need time to pass', () => {
  let ctx: ExpiryContext;
  const canaryLess: string[] = [];

  beforeAll(async () => {
    ctx = await startExpiryContext();
  });

  afterAll(async () => {
    await ctx?.server.stop();
  });

  for (const c of expiryCases) {
    it(`${c.family}: ${c.attack} -> ${c.expected}`, () => runCase(ctx, (e) => expirySnapshotTarget(e, canaryLess), c, rows));
  }
});
