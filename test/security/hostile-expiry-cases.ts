// Rows of the hostile-input suite that need time to pass: an expired token, on a server of its
// own whose clock the test moves (a fake clock, the one thing faked here). Each request is
// refused with 401 and changes nothing.
import { join } from 'node:path';
import type { Clock } from '../../src/common/clock.js';
import { routes } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { expectHttpRefusal } from './hostile-context.js';
import type { SnapshotTarget } from './hostile-snapshot.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call, checkinBody, login } from './security-helpers.js';

export interface ExpiryContext {
  server: TestServer;
  /** A token of root's whose lifetime has passed on the server's clock. */
  expired: string;
  home: string;
}

export const TOKEN_TTL_SECONDS = 60;

export async function startExpiryContext(): Promise<ExpiryContext> {
  const clock = { at: Date.now(), now(): number { return this.at; } } satisfies Clock & { at: number };
  const server = await startTestServer({ tokenTtlSeconds: TOKEN_TTL_SECONDS }, { clock });
  const expired = await login(server.server.url, 'codalab', 'secret-root');
  const home = ((await call(server.server.url, 'GET', routes.homeWorksheet(), { token: expired })).body as { uuid: string }).uuid;
  clock.at += (TOKEN_TTL_SECONDS + 1) * 1000;
  return { server, expired, home };
}

export function expirySnapshotTarget(ctx: ExpiryContext, hostDirs: string[]): SnapshotTarget {
  return { database: join(ctx.server.home, 'db.sqlite'), store: join(ctx.server.home, 'store'), hostDirs };
}

function expiredRefused(attack: string, method: string, path: (ctx: ExpiryContext) => string, json?: unknown): HostileCase<ExpiryContext> {
  return {
    family: 'token',
    attack: `expired token (fake clock): ${attack}`,
    expected: '401 unauthorized',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.server.server.url, method, path(ctx), { token: ctx.expired, ...(json === undefined ? {} : { json }) });
      return { result: expectHttpRefusal(answer, 401, 'unauthorized', /Access token expired: log in again/) };
    },
  };
}

export const expiryCases: HostileCase<ExpiryContext>[] = [
  expiredRefused('read the home worksheet', 'GET', () => routes.homeWorksheet()),
  expiredRefused('create a dataset', 'POST', (ctx) => routes.createBundle(ctx.home), { bundle_type: 'dataset', metadata: { name: 'late' }, dependencies: [] }),
  expiredRefused('worker check-in', 'POST', () => routes.checkin('late-worker'), checkinBody({ hostname: 'late' })),
];
