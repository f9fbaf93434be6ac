// The Kubernetes backend against a fake API server: a real HTTP server on loopback that records
// each request and answers like the API server would (pods and secrets kept in memory). It is the
// far side of a network we do not run; the client library, HTTP and JSON are real.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesBackendConfig } from '../config.js';
import type { WorkerLaunch } from '../worker-backend.js';
import { KubernetesWorkerBackend } from './kubernetes-backend.js';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

/** The fake API server's state: what it was asked, and the objects it keeps. */
class FakeApiServer {
  readonly requests: Recorded[] = [];
  readonly pods = new Map<string, Record<string, unknown>>();
  readonly secrets = new Map<string, Record<string, unknown>>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readJson(req).then((body) => {
        const url = new URL(req.url ?? '/', 'http://fake');
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, body });
        const [status, answer] = this.answer(req.method ?? '', url, body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private answer(method: string, url: URL, body: unknown): [number, unknown] {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return [404, status(404, 'NotFound')];
    const store = m[2] === 'pods' ? this.pods : this.secrets;
    const name = m[3];
    const object = body as { metadata?: { name?: string } } | undefined;
    if (method === 'POST' && name === undefined) {
      const key = object?.metadata?.name ?? '';
      if (store.has(key)) return [409, status(409, 'AlreadyExists')];
      const created = { ...(body as object), metadata: { ...object?.metadata, creationTimestamp: '2026-01-02T03:04:05Z' }, status: { phase: 'Pending' } };
      store.set(key, created);
      return [201, created];
    }
    if (method === 'PUT' && name !== undefined) {
      store.set(name, body as Record<string, unknown>);
      return [200, body];
    }
    if (method === 'GET' && name === undefined) {
      const selector = url.searchParams.get('labelSelector') ?? '';
      const [key, value] = selector.split('=');
      const items = [...store.values()].filter((o) => (o as { metadata: { labels?: Record<string, string> } }).metadata.labels?.[key ?? ''] === value);
      return [200, { apiVersion: 'v1', kind: 'PodList', metadata: {}, items }];
    }
    if (method === 'DELETE' && name !== undefined) {
      const existing = store.get(name);
      if (!existing) return [404, status(404, 'NotFound')];
      store.delete(name);
      return [200, existing];
    }
    return [405, status(405, 'MethodNotAllowed')];
  }
}

function status(code: number, reason: string): unknown {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message: reason };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

const fake = new FakeApiServer();

function backend(overrides: Partial<KubernetesBackendConfig> = {}): KubernetesWorkerBackend {
  return new KubernetesWorkerBackend(
    {
      kind: 'kubernetes',
      image: 'example/codalab-worker:1',
      workerCommand: 'cl-worker',
      namespace: 'codalab',
      apiServer: fake.url,
      token: 'test-token',
      kubeconfig: null,
      nodeSelector: { pool: 'gpu' },
      workDirRoot: '/var/lib/codalab-workers',
      dockerSocket: '/var/run/docker.sock',
      ...overrides,
    },
    'mgr',
  );
}

const launch: WorkerLaunch = {
  id: 'mgr-0a1b2c3d',
  shape: { cpus: 4, gpus: 2, memoryBytes: 8 * 1024 ** 3 },
  args: ['--server', 'http://codalab:2900', '--id', 'mgr-0a1b2c3d', '--exit-when-idle'],
  credentials: { username: 'manager', password: 'manager-password' },
};

beforeAll(async () => {
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

afterEach(() => {
  fake.requests.length = 0;
  fake.pods.clear();
  fake.secrets.clear();
});

describe('Kubernetes backend against a fake API server', () => {
  it('creates the credentials Secret, then a pod with the shape, GPU limit, node selector and labels', async () => {
    await backend().startJob(launch);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v1/namespaces/codalab/secrets', 'POST /api/v1/namespaces/codalab/pods']);
    expect(fake.requests.every((r) => r.authorization === 'Bearer test-token')).toBe(true);
    expect(fake.secrets.get('mgr-credentials')).toMatchObject({ stringData: { username: 'manager', password: 'manager-password' } });
    const pod = fake.requests[1]?.body as { metadata: unknown; spec: { containers: Record<string, unknown>[]; nodeSelector: unknown; restartPolicy: string } };
    expect(pod.metadata).toEqual({ name: 'mgr-0a1b2c3d', labels: { 'codalab.org/worker-manager': 'mgr', 'codalab.org/managed-worker': 'mgr-0a1b2c3d' } });
    expect(pod.spec.nodeSelector).toEqual({ pool: 'gpu' });
    expect(pod.spec.restartPolicy).toBe('Never');
    const container = pod.spec.containers[0];
    expect(container).toMatchObject({
      image: 'example/codalab-worker:1',
      command: ['cl-worker', ...launch.args, '--work-dir', '/var/lib/codalab-workers/mgr-0a1b2c3d', '--docker-socket', '/var/run/docker.sock'],
      resources: {
        requests: { cpu: '4', memory: String(8 * 1024 ** 3) },
        limits: { cpu: '4', memory: String(8 * 1024 ** 3), 'nvidia.com/gpu': '2' },
      },
    });
    expect(container?.env).toEqual([
      { name: 'CODALAB_USERNAME', valueFrom: { secretKeyRef: { name: 'mgr-credentials', key: 'username' } } },
      { name: 'CODALAB_PASSWORD', valueFrom: { secretKeyRef: { name: 'mgr-credentials', key: 'password' } } },
    ]);
    expect(JSON.stringify(pod)).not.toContain('manager-password');
  });

  it('replaces a Secret an earlier manager left, and writes it once per manager', async () => {
    fake.secrets.set('mgr-credentials', { metadata: { name: 'mgr-credentials' }, stringData: { username: 'old', password: 'old' } });
    const b = backend();
    await b.startJob(launch);
    await b.startJob({ ...launch, id: 'mgr-11111111' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/namespaces/codalab/secrets',
      'PUT /api/v1/namespaces/codalab/secrets/mgr-credentials',
      'POST /api/v1/namespaces/codalab/pods',
      'POST /api/v1/namespaces/codalab/pods',
    ]);
    expect(fake.secrets.get('mgr-credentials')).toMatchObject({ stringData: { username: 'manager' } });
  });

  it('lists its own pods by label, with their phase as the job state', async () => {
    const b = backend();
    await b.startJob(launch);
    await b.startJob({ ...launch, id: 'mgr-22222222' });
    fake.pods.set('someone-else', { metadata: { name: 'someone-else', labels: { 'codalab.org/worker-manager': 'other' } }, status: { phase: 'Running' } });
    const running = fake.pods.get('mgr-22222222') as { status: unknown };
    running.status = { phase: 'Running' };
    const done = fake.pods.get('mgr-0a1b2c3d') as { status: unknown };
    done.status = { phase: 'Succeeded', containerStatuses: [{ name: 'cl-worker', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
    const jobs = await b.listJobs();
    expect(fake.requests.at(-1)?.query.get('labelSelector')).toBe('codalab.org/worker-manager=mgr');
    expect(jobs.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'mgr-0a1b2c3d', state: 'finished', createdAt: Date.parse('2026-01-02T03:04:05Z'), detail: 'exit code 0, Completed' },
      { id: 'mgr-22222222', state: 'running', createdAt: Date.parse('2026-01-02T03:04:05Z'), detail: 'Running' },
    ]);
  });

  it('deletes a pod, and takes one already gone as deleted', async () => {
    const b = backend();
    await b.startJob(launch);
    await b.removeJob(launch.id);
    expect(fake.pods.size).toBe(0);
    await b.removeJob(launch.id);
    expect(fake.requests.slice(-2).map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /api/v1/namespaces/codalab/pods/mgr-0a1b2c3d',
      'DELETE /api/v1/namespaces/codalab/pods/mgr-0a1b2c3d',
    ]);
  });

  it('deletes its credentials Secret once none of its pods is left, and writes it again for the next pod', async () => {
    const b = backend();
    await b.startJob(launch);
    fake.pods.set('someone-else', { metadata: { name: 'someone-else', labels: { 'codalab.org/worker-manager': 'other' } }, status: { phase: 'Running' } });
    // A pod of its own still runs: the Secret stays.
    await b.listJobs();
    expect(fake.secrets.has('mgr-credentials')).toBe(true);
    await b.removeJob(launch.id);
    await b.listJobs();
    expect(fake.secrets.has('mgr-credentials')).toBe(false);
    // Only once: an idle manager does not delete on every round.
    const requests = fake.requests.length;
    await b.listJobs();
    expect(fake.requests.slice(requests).map((r) => r.method)).toEqual(['GET']);
    await b.startJob({ ...launch, id: 'mgr-33333333' });
    expect(fake.secrets.get('mgr-credentials')).toMatchObject({ stringData: { username: 'manager' } });
  });

  it('deletes a Secret an earlier manager left when it starts with no pods of its own', async () => {
    fake.secrets.set('mgr-credentials', { metadata: { name: 'mgr-credentials' }, stringData: { username: 'old', password: 'old' } });
    await backend().listJobs();
    expect(fake.secrets.has('mgr-credentials')).toBe(false);
  });

  it('leaves out GPU limits and the node selector when there are none', async () => {
    await backend({ nodeSelector: {} }).startJob({ ...launch, shape: { cpus: 1, gpus: 0, memoryBytes: 1024 ** 3 } });
    const pod = fake.requests[1]?.body as { spec: { containers: { resources: { limits: Record<string, string> } }[]; nodeSelector?: unknown } };
    expect(pod.spec.nodeSelector).toBeUndefined();
    expect(pod.spec.containers[0]?.resources.limits).toEqual({ cpu: '1', memory: String(1024 ** 3) });
  });
});
