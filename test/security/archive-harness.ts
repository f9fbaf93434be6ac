// Test support for the archive attacks: a real server on loopback (logged in as root), uploads of
// hand-built archives over real HTTP, a scripted worker that uploads run results the way
// cl-worker does, and a look at what reached the server's disk. Not part of the product.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  MessagesResponse,
  Worksheet,
  routes,
} from '../../src/protocol/index.js';
import type { ServerConfig } from '../../src/server/config.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { checkinBody } from '../support/checkin-body.js';

export type TarEntrySpec = Partial<tarStream.Header> & { name: string; data?: string };

export async function buildTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const { data, ...header } of entries) {
    pack.entry({ mode: 0o644, mtime: new Date(0), ...header }, data ?? '');
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface TarEntryRead {
  name: string;
  type: string;
  mode: number;
  linkname: string | null;
  data: Buffer;
}

export async function readTar(bytes: Buffer): Promise<TarEntryRead[]> {
  const extract = tarStream.extract();
  const entries: TarEntryRead[] = [];
  Readable.from([bytes]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
    const { name, type, mode, linkname } = entry.header;
    entries.push({ name, type, mode, linkname: linkname || null, data: Buffer.concat(chunks) });
  }
  return entries;
}

export async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null)) !== null;
}

export class ArchiveServer {
  private worksheet = '';
  private runs = 0;

  private constructor(readonly test: TestServer) {}

  static async start(overrides: Partial<ServerConfig> = {}): Promise<ArchiveServer> {
    const server = new ArchiveServer(await startTestServer(overrides));
    server.worksheet = (await server.test.client.json(routes.homeWorksheet(), Worksheet)).uuid;
    return server;
  }

  stop(): Promise<void> {
    return this.test.stop();
  }

  get client(): TestServer['client'] {
    return this.test.client;
  }

  /** Where the store keeps a bundle's contents on disk. */
  storedPath(uuid: string, subpath = ''): string {
    return join(this.test.home, 'store', 'bundles', uuid, subpath);
  }

  async createDataset(name: string): Promise<Bundle> {
    return this.client.json(routes.createBundle(this.worksheet), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
  }

  async getBundle(uuid: string): Promise<Bundle> {
    return this.client.json(routes.bundle(uuid), Bundle);
  }

  /** Creates a dataset and uploads `bytes` as the archive `filename`; returns the bundle and the refusal, if any. */
  async uploadArchive(filename: string, bytes: Buffer): Promise<{ bundle: Bundle; error: Error | null }> {
    const created = await this.createDataset(`upload-${filename.replace(/\W/g, '-')}`);
    const error = await this.client
      .json(routes.uploadContents(created.uuid, { unpack: true, filename }), Bundle, { method: 'PUT', body: Readable.from([bytes]) })
      .then(() => null, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    return { bundle: await this.getBundle(created.uuid), error };
  }

  /** Status code and body of a read; reads that fail answer with their error message. */
  async read(kind: 'blob' | 'info', uuid: string, path: string, query = ''): Promise<{ ok: boolean; body: Buffer; message: string }> {
    const route = (kind === 'blob' ? routes.contentsBlob(uuid, path) : routes.contentsInfo(uuid, path)) + query;
    try {
      const response = await this.client.send(route);
      return { ok: true, body: await response.buffer(), message: '' };
    } catch (error) {
      return { ok: false, body: Buffer.alloc(0), message: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Creates a run, takes it as a worker through the real worker routes, uploads `results` as its
   * contents the way cl-worker does, and reports it finished (freeing the worker's slot); returns
   * the run and the upload's refusal.
   */
  async uploadRunResults(results: Buffer): Promise<{ run: Bundle; error: Error | null }> {
    const workerId = 'attacker';
    this.runs += 1;
    const run = await this.client.json(routes.createBundle(this.worksheet), Bundle, {
      json: { bundle_type: 'run', command: `true # ${this.runs}`, metadata: {}, dependencies: [] },
    });
    await this.test.workerClient.json(routes.checkin(workerId), CheckinResponse, { json: checkinBody({ hostname: 'attacker', slots: 4 }) });
    const assignment = await this.waitForAssignment(workerId, run.uuid);
    const started = await this.test.workerClient.json(routes.startRun(workerId, run.uuid), AcceptedResponse, {
      json: { assignment_id: assignment, hostname: 'attacker' },
    });
    if (!started.accepted) throw new Error(`run ${run.uuid} was not started: ${started.reason ?? ''}`);
    const error = await this.test.workerClient
      .json(routes.runContents(workerId, run.uuid, assignment), AcceptedResponse, {
        method: 'PUT',
        body: Readable.from([results]),
        headers: { 'content-type': 'application/x-tar' },
      })
      .then((answer) => (answer.accepted ? null : new Error(answer.reason ?? 'not accepted')), (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    await this.test.workerClient.json(routes.finishRun(workerId, run.uuid), AcceptedResponse, {
      json: { assignment_id: assignment, exitcode: 0, failure_message: null, killed: false, progress: {} },
    });
    return { run, error };
  }

  private async waitForAssignment(workerId: string, uuid: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { messages } = await this.test.workerClient.json(routes.messages(workerId, 2), MessagesResponse);
      const message = messages.find((m) => m.type === 'run' && m.run.uuid === uuid);
      if (message?.type === 'run') return message.assignment_id;
      await this.test.workerClient.json(routes.checkin(workerId), CheckinResponse, { json: checkinBody({ hostname: 'attacker', slots: 4 }) });
    }
    throw new Error(`run ${uuid} was never assigned to worker ${workerId}`);
  }
}

