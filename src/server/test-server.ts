// Test support: a real server on loopback with a temp home and SQLite file, and an HTTP client
// logged in as root. Used by the server's integration tests; not part of the product.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/log.js';
import { HttpClient } from '../common/http-client.js';
import { TokenResponse, WORKER_CLIENT_ID, routes } from '../protocol/index.js';
import { SERVER_DEFAULTS, type ServerConfig } from './config.js';
import { startServer, type RunningServer, type ServerDeps } from './server.js';

export interface TestServer {
  server: RunningServer;
  /** The server's home: tests that check what reached the disk look below it. */
  home: string;
  /** Logged in as root. */
  client: HttpClient;
  /** Logged in as root with the worker client id: for the worker routes. */
  workerClient: HttpClient;
  stop(): Promise<void>;
  /** Stops the server and keeps its home, for a new server started on it (`{ home }`). */
  stopKeepingHome(): Promise<void>;
}

const ROOT_PASSWORD = 'secret-root';

/** A server on a new temp home, or on `overrides.home` (a home a stopped test server kept). */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, deps: ServerDeps = {}): Promise<TestServer> {
  const home = overrides.home ?? (await mkdtemp(join(tmpdir(), 'cl-server-test-')));
  const server = await startServer(
    {
      ...SERVER_DEFAULTS,
      home,
      port: 0,
      databaseUrl: join(home, 'db.sqlite'),
      storeDir: join(home, 'store'),
      advertiseUrl: null,
      rootPassword: ROOT_PASSWORD,
      schedulerIntervalMs: 100,
      ...overrides,
    },
    silentLogger,
    deps,
  );
  const client = await loggedInClient(server.url, 'codalab', ROOT_PASSWORD);
  const workerClient = await loggedInClient(server.url, 'codalab', ROOT_PASSWORD, WORKER_CLIENT_ID);
  return {
    server,
    home,
    client,
    workerClient,
    stop: async () => {
      await server.stop();
      // A home the caller passed in is the caller's to remove.
      if (overrides.home === undefined) await rm(home, { recursive: true, force: true });
    },
    stopKeepingHome: () => server.stop(),
  };
}

/** A client holding a fresh access token of `username`: a user session's, or a worker's with WORKER_CLIENT_ID. */
export async function loggedInClient(baseUrl: string, username: string, password: string, clientId?: string): Promise<HttpClient> {
  const client = new HttpClient({ baseUrl });
  const json = { grant_type: 'password', username, password, ...(clientId === undefined ? {} : { client_id: clientId }) };
  client.token = (await client.json(routes.token(), TokenResponse, { json })).access_token;
  return client;
}
