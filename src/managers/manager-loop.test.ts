// The manager loop against the real server (loopback HTTP, real SQLite) with an in-memory fake
// backend that records what it is asked: starts for waiting runs, no second start while a
// worker is pending, finished jobs removed, and a refused login that stops the loop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../common/clock.js';
import { createRecordingLogger } from '../common/recording-logger.js';
import { ApiError, Bundle, StagedRunsResponse, User, Worksheet, routes } from '../protocol/index.js';
import { loggedInClient, startTestServer, type TestServer } from '../server/test-server.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';
import type { ScalingPolicy } from './decide-workers.js';
import { WorkerManagerLoop, type ManagerLoopOptions } from './manager-loop.js';
import { ManagerServerClient } from './server-client.js';
import type { BackendJob, WorkerBackend, WorkerLaunch } from './worker-backend.js';

/** Keeps jobs in memory; the test moves them between states as a real backend's would move. */
class FakeBackend implements WorkerBackend {
  readonly name = 'fake';
  readonly jobs = new Map<string, BackendJob>();
  readonly launches: WorkerLaunch[] = [];
  readonly removed: string[] = [];

  listJobs(): Promise<BackendJob[]> {
    return Promise.resolve([...this.jobs.values()]);
  }

  startJob(launch: WorkerLaunch): Promise<void> {
    this.launches.push(launch);
    this.jobs.set(launch.id, { id: launch.id, state: 'running', createdAt: Date.now(), detail: null });
    return Promise.resolve();
  }

  removeJob(id: string): Promise<void> {
    this.removed.push(id);
    this.jobs.delete(id);
    return Promise.resolve();
  }
}

const policy: ScalingPolicy = {
  minWorkers: 0,
  maxWorkers: 5,
  queue: null,
  users: null,
  baseShape: { cpus: 1, gpus: 0, memoryBytes: 1024 ** 3 },
  maxShape: { cpus: null, gpus: null, memoryBytes: null },
  pendingTimeoutMs: 600_000,
};

let ts: TestServer;

const MANAGER = { username: 'loop-manager', password: 'loop-manager-password' };

function loopOptions(password = MANAGER.password): ManagerLoopOptions {
  return {
    name: 'loop-test',
    policy,
    workerArgs: { serverUrl: ts.server.url, queue: null, idleSeconds: 5, exitAfterNumRuns: 1 },
    credentials: { username: MANAGER.username, password },
    sleepSeconds: 0.05,
  };
}

beforeAll(async () => {
  ts = await startTestServer();
  await ts.client.json(routes.users(), User, { json: { user_name: MANAGER.username, password: MANAGER.password } });
  const manager = await loggedInClient(ts.server.url, MANAGER.username, MANAGER.password);
  const home = await manager.json(routes.homeWorksheet(), Worksheet);
  const run = await manager.json(routes.createBundle(home.uuid), Bundle, { json: { bundle_type: 'run', command: 'true', metadata: { request_cpus: 2 } } });
  await waitFor(
    async () => {
      const { runs } = await manager.json(routes.stagedRuns(), StagedRunsResponse);
      return runs.some((r) => r.uuid === run.uuid && r.waiting_reason !== null) ? true : undefined;
    },
    HANG_DEADLINE_MS,
    'the run to wait for a worker',
  );
});

afterAll(async () => {
  await ts.stop();
});

describe('WorkerManagerLoop with a fake backend', () => {
  it('starts one worker for the waiting run, then none while that worker is pending', async () => {
    const backend = new FakeBackend();
    const options = loopOptions();
    const loop = new WorkerManagerLoop(new ManagerServerClient({ serverUrl: ts.server.url, credentials: options.credentials }), backend, systemClock, createRecordingLogger(), options);
    const first = await loop.round();
    expect(first.start).toHaveLength(1);
    const launch = backend.launches[0];
    expect(launch?.id).toMatch(/^loop-test-[0-9a-f]{8}$/);
    expect(launch?.shape).toEqual({ cpus: 2, gpus: 0, memoryBytes: 2 * 1024 ** 3 });
    expect(launch?.args).toEqual([
      '--server', ts.server.url, '--id', launch?.id, '--max-memory', String(2 * 1024 ** 3), '--pass-down-termination',
      '--gpuset', 'NONE', '--exit-when-idle', '--idle-seconds', '5', '--exit-after-num-runs', '1',
    ]);
    const second = await loop.round();
    expect(second.start).toEqual([]);
    expect(second.heldBack).toContain('waiting for 1 pending worker(s) to check in first');
    expect(backend.launches).toHaveLength(1);
  });

  it('removes a finished job and counts it gone', async () => {
    const backend = new FakeBackend();
    backend.jobs.set('loop-test-done', { id: 'loop-test-done', state: 'finished', createdAt: 0, detail: 'Exited (0)' });
    const log = createRecordingLogger();
    const options = loopOptions();
    const loop = new WorkerManagerLoop(new ManagerServerClient({ serverUrl: ts.server.url, credentials: options.credentials }), backend, systemClock, log, options);
    const decision = await loop.round();
    expect(backend.removed).toEqual(['loop-test-done']);
    expect(log.messages()).toContain('worker ended (Exited (0)); removing its job');
    // Gone, so not counted as pending: the waiting run gets a worker.
    expect(decision.start).toHaveLength(1);
  });

  it('stops on a refused login', async () => {
    const options = loopOptions('wrong-password');
    const loop = new WorkerManagerLoop(new ManagerServerClient({ serverUrl: ts.server.url, credentials: options.credentials }), new FakeBackend(), systemClock, createRecordingLogger(), options);
    const refused = await loop.run(new AbortController().signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('unauthorized');
  });
});
