// The server side of the worker's tests: a real in-process server (startTestServer) with a
// FaultProxy in front, a user who owns both the runs and the worker under test, and helpers that
// create bundles through the REST API and wait for what the server then shows. Workers under test
// connect to `workerUrl` (the proxy). One rig per test file; it starts no worker itself.
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { HttpClient } from '../../src/common/http-client.js';
import {
  Bundle,
  BundleActionResponse,
  TokenResponse,
  User,
  WorkerInfo,
  Worksheet,
  routes,
  type Dependency,
  type Metadata,
  type WorkerCheckin,
} from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { FaultProxy, type SeenRequest } from './fault-proxy.js';
import { HANG_DEADLINE_MS, waitFor } from './wait-for.js';

const FINAL = ['ready', 'failed', 'killed'];

export interface WorkerRig {
  server: TestServer;
  proxy: FaultProxy;
  /** The URL a worker under test is given: the proxy's. */
  workerUrl: string;
  /** The user the worker logs in as; runs are created as this user too. */
  username: string;
  password: string;
  client: HttpClient;
  createRun(command: string, metadata?: Metadata, dependencies?: Dependency[]): Promise<Bundle>;
  /** A dataset holding one file. */
  uploadFile(name: string, bytes: Buffer): Promise<Bundle>;
  /** A dataset holding a directory of these files. */
  uploadDirectory(name: string, files: Record<string, string>): Promise<Bundle>;
  bundle(uuid: string): Promise<Bundle>;
  /** Waits until the bundle satisfies `isDone` (by default: reaches a final state). */
  waitForBundle(uuid: string, what: string, isDone?: (bundle: Bundle) => boolean): Promise<Bundle>;
  /** The stored bytes of a file of a bundle, as `cl cat` reads them. */
  cat(uuid: string, path: string): Promise<string>;
  /** The stored contents of a bundle: file name -> text; directories end with `/`. */
  files(uuid: string): Promise<Map<string, string>>;
  kill(uuid: string): Promise<BundleActionResponse>;
  /** Waits until the server lists worker `id` (of this rig's user) and it satisfies `isDone`. */
  waitForWorker(id: string, isDone?: (worker: WorkerInfo) => boolean): Promise<WorkerInfo>;
  /** Check-in bodies the proxy passed on, oldest first, from index `from` of its log. */
  checkins(from?: number): WorkerCheckin[];
  stop(): Promise<void>;
}

export async function startWorkerRig(username = 'worker-owner'): Promise<WorkerRig> {
  const server = await startTestServer();
  const proxy = new FaultProxy(server.server.url);
  const workerUrl = await proxy.start();
  const password = `${username}-password`;
  await server.client.json('/rest/users', User, { json: { user_name: username, password } });
  const client = new HttpClient({ baseUrl: server.server.url });
  client.token = (await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username, password } })).access_token;
  const worksheet = await client.json(routes.homeWorksheet(), Worksheet);

  const bundle = (uuid: string): Promise<Bundle> => client.json(routes.bundle(uuid), Bundle);
  const upload = async (name: string, body: Buffer, filename: string, unpack: boolean): Promise<Bundle> => {
    const created = await client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
    return client.json(routes.uploadContents(created.uuid, { unpack, filename }), Bundle, { method: 'PUT', body: Readable.from([body]) });
  };
  return {
    server,
    proxy,
    workerUrl,
    username,
    password,
    client,
    createRun: (command, metadata = {}, dependencies = []) =>
      client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'run', command, metadata, dependencies } }),
    uploadFile: (name, bytes) => upload(name, bytes, name, false),
    uploadDirectory: async (name, files) => upload(name, await tarOf(files), `${name}.tar`, true),
    bundle,
    waitForBundle: (uuid, what, isDone = (b) => FINAL.includes(b.state)) =>
      waitFor(async () => {
        const b = await bundle(uuid);
        return isDone(b) ? b : undefined;
      }, HANG_DEADLINE_MS, `${what} (bundle ${uuid})`),
    cat: async (uuid, path) => (await client.send(routes.contentsBlob(uuid, path))).text(),
    files: async (uuid) => untar(await (await client.send(routes.contentsBlob(uuid, ''))).buffer()),
    kill: (uuid) => client.json(routes.bundleActions(), BundleActionResponse, { json: { type: 'kill', uuid } }),
    waitForWorker: (id, isDone = () => true) =>
      waitFor(async () => {
        const found = (await client.json(routes.workersInfo(), WorkerInfo.array())).find((w) => w.id === id);
        return found && isDone(found) ? found : undefined;
      }, HANG_DEADLINE_MS, `worker ${id} as the test expects`),
    checkins: (from = 0) =>
      proxy.seen.slice(from).filter(isCheckin).map((r) => r.json as WorkerCheckin),
    stop: async () => {
      await proxy.close();
      await server.stop();
    },
  };
}

export function isCheckin(request: SeenRequest): boolean {
  return request.method === 'POST' && /^\/rest\/workers\/[^/]+\/checkin$/.test(request.path);
}

export function isMessagesPoll(request: SeenRequest): boolean {
  return request.method === 'GET' && /^\/rest\/workers\/[^/]+\/messages\?/.test(request.path);
}

/** A worker's call about one run: `start`, `contents` (the upload) or `finish`; any run when `uuid` is omitted. */
export function isRunCall(call: 'start' | 'contents' | 'finish', uuid = '0x[0-9a-f]{32}'): (request: SeenRequest) => boolean {
  const pattern = new RegExp(`^/rest/workers/[^/]+/runs/${uuid}/${call}(\\?|$)`);
  return (request) => pattern.test(request.path);
}

/** The stages a worker reported for a run in its check-ins, in order, without repeats. */
export function stagesOf(checkins: readonly WorkerCheckin[], uuid: string): string[] {
  const stages: string[] = [];
  for (const c of checkins) {
    const r = c.runs.find((x) => x.uuid === uuid);
    if (r && stages[stages.length - 1] !== r.state) stages.push(r.state);
  }
  return stages;
}

/** A promise and the function that settles it: the gate of a held request. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A tar of these files (name to contents), built in memory: for small test uploads. */
export async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function untar(bytes: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tarStream.extract();
  Readable.from([bytes]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const name = entry.header.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (name !== '' && name !== '.') files.set(entry.header.type === 'directory' ? `${name}/` : name, Buffer.concat(chunks).toString());
  }
  return files;
}
