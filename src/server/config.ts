// Server configuration: parsed once in main from flags and environment, frozen, passed down.
// Every option is listed here with its default.
import type { QuotaDefaults } from './quotas/quota-rules.js';
import { NO_REQUEST_LIMITS, type RequestLimits } from './scheduling/resources.js';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './services/login-limiter.js';

export interface ServerConfig {
  /** Database, bundle store and root password live here. */
  readonly home: string;
  readonly host: string;
  /** 0 picks any free port; the chosen address is written to `<home>/address.json`. */
  readonly port: number;
  /** SQLite file path, or a `postgres://`/`postgresql://` URL (store/open-store.ts picks the engine). */
  readonly databaseUrl: string;
  /** Bundle contents (`--store-dir`, default `<home>/store`): one directory every server of the database reaches. */
  readonly storeDir: string;
  /**
   * The URL other servers of a PostgreSQL database reach this one at (`--advertise-url`); null:
   * the address it listens on. Also this server's identity among them, so it must be unique.
   */
  readonly advertiseUrl: string | null;
  /** The web interface's static build; absent: dist/web beside the compiled server. */
  readonly webDir?: string;
  readonly defaultCpuImage: string;
  readonly defaultGpuImage: string;
  /** Root password from CODALAB_ROOT_PASSWORD on first start; generated when absent. */
  readonly rootPassword: string | null;
  /** Lifetime of access tokens (`--token-ttl-seconds`); `cl` and workers renew them when they expire. */
  readonly tokenTtlSeconds: number;
  /** Lifetime of refresh tokens (`--refresh-token-ttl-seconds`): how long a `cl` login lasts unused. */
  readonly refreshTokenTtlSeconds: number;
  /** `--allow-signup`: anyone who can reach the server may create a (non-root) account. */
  readonly allowSignup: boolean;
  /** A worker silent for longer than this is offline; its runs become `worker_offline`. */
  readonly workerTimeoutSeconds: number;
  /**
   * A `worker_offline` run whose worker stays silent longer than this fails (`--worker-lease-seconds`);
   * long enough, by default, to reboot the worker's machine and re-attach its runs.
   */
  readonly workerLeaseSeconds: number;
  /** A run assigned but not started by its worker within this time goes back to `staged`. */
  readonly startingTimeoutSeconds: number;
  /** A run `preparing` (or `finalizing`) longer than this fails and its worker is told to stop it. */
  readonly preparingTimeoutSeconds: number;
  readonly finalizingTimeoutSeconds: number;
  /** A new dataset whose upload has not arrived (and is not arriving) within this time fails. */
  readonly uploadTimeoutSeconds: number;
  readonly checkinSeconds: number;
  readonly schedulerIntervalMs: number;
  /** Largest single upload accepted, in bytes. */
  readonly maxUploadBytes: number;
  /** Bounds on run requests (`--max-request-memory` and friends); a run outside them fails at creation. */
  readonly requestLimits: RequestLimits;
  /** Network access of runs that do not say (`--default-request-network`, default true). */
  readonly defaultRequestNetwork: boolean;
  /** Failed logins allowed per client address and per user name in a sliding window (see login-limiter.ts). */
  readonly loginLimits: LoginLimits;
  /**
   * Quotas of users root gave none of their own (`--default-user-disk-quota`, `-time-quota`,
   * `-parallel-run-quota`); root has no limits.
   */
  readonly defaultUserQuotas: QuotaDefaults;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 2900,
  defaultCpuImage: 'codalab/default-cpu:latest',
  defaultGpuImage: 'codalab/default-gpu:latest',
  tokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  allowSignup: false,
  workerTimeoutSeconds: 30,
  workerLeaseSeconds: 1800,
  startingTimeoutSeconds: 120,
  preparingTimeoutSeconds: 6 * 3600,
  finalizingTimeoutSeconds: 6 * 3600,
  uploadTimeoutSeconds: 600,
  checkinSeconds: 5,
  schedulerIntervalMs: 500,
  maxUploadBytes: 1024 ** 4,
  requestLimits: NO_REQUEST_LIMITS,
  defaultRequestNetwork: true,
  loginLimits: DEFAULT_LOGIN_LIMITS,
  // CodaLab's disk and time defaults (1t; 1 year, in effect no limit); runs at once on shared workers
  // are 100 rather than CodaLab's 3, so a small team's server does not queue runs by surprise.
  defaultUserQuotas: { diskBytes: 1024 ** 4, timeSeconds: 365 * 86400, parallelRuns: 100 },
} as const;
