// Starts a server: private home, store with migrations, blob store, root user, services, the
// scheduling loop and the HTTP listener. Writes `<home>/address.json` once listening, so
// launchers can find it.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-write.js';
import { join, resolve } from 'node:path';
import { HELD_STATES, ROOT_USER_NAME } from '../protocol/index.js';
import { BlobStore } from './blobs/blob-store.js';
import { randomIds } from './ids.js';
import { systemClock, type Clock } from '../common/clock.js';
import type { ServerConfig } from './config.js';
import { AccessControl } from './permissions/access-control.js';
import { GroupService } from './permissions/group-service.js';
import { SharingService } from './permissions/sharing-service.js';
import { secureDatabaseFiles, secureHome, secureStoreDirs } from './home-permissions.js';
import { buildApp } from './http/app.js';
import { createLogger, type Logger } from '../common/log.js';
import { BundleManager } from './scheduling/bundle-manager.js';
import { assembleStagedMakes, restageInterruptedMakes } from './scheduling/make-assembler.js';
import { AuthService } from './services/auth-service.js';
import { UserService } from './services/user-service.js';
import { BundleService } from './services/bundle-service.js';
import { ContentsService } from './services/contents-service.js';
import { LivePortsService } from './services/live-ports.js';
import { LiveContentsService } from './services/live-contents.js';
import { LoginLimiter } from './services/login-limiter.js';
import { WorkerRelay } from './services/worker-relay.js';
import { WorkerHub } from './services/worker-hub.js';
import { WorkerService } from './services/worker-service.js';
import { WorksheetService } from './services/worksheet-service.js';
import { isPostgresUrl, redactDatabaseUrl } from './store/database-url.js';
import { openStore } from './store/open-store.js';
import { QuotaService } from './quotas/quota-service.js';
import { joinCluster, type JoinedCluster } from './cluster/join-cluster.js';
import { Membership } from './cluster/membership.js';
import { ClusterRelay } from './cluster/peer-relay.js';

export interface RunningServer {
  url: string;
  rootPassword: string;
  stop(): Promise<void>;
}

/** What tests may replace; the product always runs with the defaults. */
export interface ServerDeps {
  clock?: Clock;
}

export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger({ program: 'cl-server', verbose: false, format: 'text' }),
  deps: ServerDeps = {},
): Promise<RunningServer> {
  // A PostgreSQL database keeps its own files; only an SQLite file lives in the home.
  const sqlitePath = isPostgresUrl(config.databaseUrl) ? null : config.databaseUrl;
  // On PostgreSQL other servers may share the database: see cluster/join-cluster.ts.
  const shared = sqlitePath === null;
  await secureHome(config.home, sqlitePath);
  const store = openStore(config.databaseUrl);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {
      // The migration's error is the one to report.
    });
    if (sqlitePath !== null) throw error;
    const reason = (error as Error).message;
    throw new Error(`Could not open the database ${redactDatabaseUrl(config.databaseUrl)}: ${reason}; check --database-url and that PostgreSQL is running.`, { cause: error });
  }
  if (sqlitePath !== null) await secureDatabaseFiles(sqlitePath);
  const storeRoot = config.storeDir;
  const blobs = new BlobStore(storeRoot, shared ? stagingNameOf(config.home) : '');
  await blobs.init();
  await secureStoreDirs(storeRoot);
  const hub = new WorkerHub();
  const clock = deps.clock ?? systemClock;
  const auth = new AuthService(
    store,
    clock,
    randomIds,
    { accessSeconds: config.tokenTtlSeconds, refreshSeconds: config.refreshTokenTtlSeconds },
    new LoginLimiter(config.loginLimits, clock),
  );
  // Sign-ups count against their own limiter: an address gets maxFailuresPerAddress a window.
  const users = new UserService(store, clock, randomIds, auth, {
    allowed: config.allowSignup,
    limiter: new LoginLimiter(config.loginLimits, clock),
  });
  const rootPassword = await ensureRootPassword(config, auth, log);
  const quotas = new QuotaService(store, config.defaultUserQuotas);

  const manager = new BundleManager(store, hub, clock, randomIds, log, {
    defaultCpuImage: config.defaultCpuImage,
    defaultGpuImage: config.defaultGpuImage,
    defaultNetwork: config.defaultRequestNetwork,
    limits: config.requestLimits,
    workerTimeoutSeconds: config.workerTimeoutSeconds,
    workerLeaseSeconds: config.workerLeaseSeconds,
    startingTimeoutSeconds: config.startingTimeoutSeconds,
    preparingTimeoutSeconds: config.preparingTimeoutSeconds,
    finalizingTimeoutSeconds: config.finalizingTimeoutSeconds,
    intervalMs: config.schedulerIntervalMs,
  }, quotas);
  // Work cut off by a restart of this server: nothing of it is in progress now. With servers
  // sharing the database, only the one that takes the scheduler lease may say so.
  if (!shared) await restageInterruptedMakes(store, clock, log);
  manager.addPassStep(() => assembleStagedMakes(store, blobs, clock, log));
  // A run's end reaches the requests waiting for it at once, before the scheduling pass it triggers.
  const onPeerChange = (): void => {
    bundles.noteChange();
    manager.trigger();
  };
  let peers: JoinedCluster | null = null;
  const onChange = (): void => {
    onPeerChange();
    peers?.bus.publish({ kind: 'change' });
  };
  const access = new AccessControl(store);
  const groups = new GroupService(store, clock, randomIds);
  const bundles = new BundleService(store, clock, randomIds, hub, onChange, quotas, access, {
    defaultCpuImage: config.defaultCpuImage,
    defaultGpuImage: config.defaultGpuImage,
    defaultNetwork: config.defaultRequestNetwork,
    limits: config.requestLimits,
  });
  const relay = new WorkerRelay(hub);
  const membership = new Membership(store.cluster, clock, log);
  // This server's advertised URL, once it listens; other servers and workers' rows name it.
  let advertised: string | null = null;
  const runRelay = shared ? new ClusterRelay(relay, store, clock, () => advertised) : relay;
  const contents = new ContentsService(store, blobs, bundles, clock, {
    maxUploadBytes: config.maxUploadBytes,
    uploadTimeoutSeconds: config.uploadTimeoutSeconds,
  });
  // An upload another server receives looks the same in the database as one cut off: with a
  // shared database, a cut-off upload fails by --upload-timeout-seconds instead.
  const interrupted = shared ? 0 : await contents.failInterruptedUploads();
  if (interrupted > 0) log.warn(`${interrupted} upload(s) were cut off by a restart; those datasets are failed and must be uploaded again`);
  manager.addPassStep(() => contents.failAbandonedUploads());
  // Files a worker moved in for a run that ended some other way (its worker lost, the run killed).
  await blobs.sweepIncoming(async (uuid) => {
    const [row] = await store.getBundles([uuid]);
    return row !== undefined && HELD_STATES.includes(row.state);
  });
  const services = {
    store,
    blobs,
    auth,
    users,
    worksheets: new WorksheetService(store, clock, randomIds, access),
    bundles,
    contents,
    relay,
    peerSecret: shared ? membership.secret : null,
    live: new LiveContentsService(store, contents, bundles, runRelay, clock),
    ports: new LivePortsService(bundles, runRelay),
    workers: new WorkerService(store, blobs, hub, clock, log, {
      defaultCpuImage: config.defaultCpuImage,
      defaultGpuImage: config.defaultGpuImage,
      defaultNetwork: config.defaultRequestNetwork,
      limits: config.requestLimits,
      checkinSeconds: config.checkinSeconds,
      workerTimeoutSeconds: config.workerTimeoutSeconds,
      maxUploadBytes: config.maxUploadBytes,
      serverUrl: () => (shared ? advertised : null),
    }, onChange, quotas, relay),
    quotas,
    access,
    groups,
    sharing: new SharingService(store, access, groups),
  };
  const app = buildApp(services, log, config.webDir);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  await writeFileAtomic(join(config.home, 'address.json'), JSON.stringify({ url, pid: process.pid }));
  if (shared) {
    advertised = config.advertiseUrl ?? url;
    peers = await joinCluster({
      databaseUrl: config.databaseUrl,
      url: advertised,
      store,
      clock,
      log,
      hub,
      membership,
      manager,
      onPeerChange,
      onSchedulerLeaseTaken: async () => void (await restageInterruptedMakes(store, clock, log)),
      keepUploadsAlive: () => contents.keepUploadsAlive(),
      uploadTimeoutSeconds: config.uploadTimeoutSeconds,
    });
  }
  manager.start();
  log.info(`listening on ${url} (home ${config.home})`);
  let stopping: Promise<void> | undefined;

  return {
    url,
    rootPassword,
    // Stopping twice is harmless: the second call waits for the first.
    stop: () => {
      stopping ??= (async () => {
        await manager.stop();
        await peers?.leave();
        hub.notifyAll();
        await app.close();
        await store.close();
      })();
      return stopping;
    },
  };
}

/**
 * This server's directory under the shared store's staging/: the same across its restarts (so it
 * clears what a crash of its own left), distinct from every other server's (its host and home).
 */
function stagingNameOf(home: string): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  return `${host}-${createHash('sha256').update(resolve(home)).digest('hex').slice(0, 12)}`;
}

/** The root password: from config on first start, else generated; kept in `<home>/root-password` (mode 600). */
async function ensureRootPassword(config: ServerConfig, auth: AuthService, log: Logger): Promise<string> {
  const file = join(config.home, 'root-password');
  const existing = await readFile(file, 'utf8').then((t) => t.trim(), () => null);
  const password = config.rootPassword ?? existing ?? randomBytes(18).toString('base64url');
  const created = await auth.ensureRootUser(password);
  if (created || existing === null) {
    await writeFileAtomic(file, `${password}\n`, { mode: 0o600 });
  }
  if (created && config.rootPassword === null) {
    log.info(`created root user '${ROOT_USER_NAME}' with password ${password} (saved in ${file})`);
  }
  return existing ?? password;
}

