// The worker's log lines carry their scope: the worker id on every line, the run and its
// assignment on lines about one run, and no message repeats them by hand. A real server in this
// process, the fake container runtime, and a recording logger.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Bundle, Worksheet, routes } from '../protocol/index.js';
import { createRecordingLogger } from '../common/recording-logger.js';
import { startTestServer, type TestServer } from '../server/test-server.js';
import { createWorkerConfig } from './config.js';
import { FakeRuntime } from './docker/fake-runtime.js';
import { startWorker, type RunningWorker } from './index.js';

let testServer: TestServer;
let worker: RunningWorker;
let workDir = '';
const log = createRecordingLogger();

beforeAll(async () => {
  testServer = await startTestServer();
  const runtime = new FakeRuntime();
  runtime.images.set('img:1', { id: 'sha256:abc', digest: 'img@sha256:abc' });
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-log-'));
  const config = createWorkerConfig(
    { serverUrl: testServer.server.url, username: 'codalab', password: 'secret-root', workDir, hostname: 'h' },
    { id: 'w-log', checkinFrequencySeconds: 1 },
  );
  worker = await startWorker(config, { log, runtime });
});

afterAll(async () => {
  await worker.stop();
  await testServer.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function waitForState(uuid: string, state: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const bundle = await testServer.client.json(routes.bundle(uuid), Bundle);
    if (bundle.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`bundle ${uuid} did not become ${state}`);
}

it('scopes worker lines by worker, and run lines by run and assignment', async () => {
  const { client } = testServer;
  const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
  const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'true', metadata: { request_docker_image: 'img:1' }, dependencies: [] },
  });
  await waitForState(run.uuid, 'ready');

  expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', message: expect.stringMatching(/^Worker connected to /), scope: { worker: 'w-log' } }));
  const runScope = { worker: 'w-log', run: run.uuid, assignment: expect.any(String) };
  expect(log.lines).toContainEqual(expect.objectContaining({ message: 'Accepted the run: true', scope: runScope }));
  expect(log.lines).toContainEqual(expect.objectContaining({ message: 'Run finished: ready', scope: runScope }));
  expect(log.lines.every((line) => line.scope.worker === 'w-log')).toBe(true);
  expect(log.lines.filter((line) => line.message.includes(run.uuid))).toEqual([]);
});
