// A stand-in for the CodaLab server's worker routes, on loopback, for the worker's own tests:
// it records check-ins, queues messages for the long poll, accepts starts, unpacks uploads and
// keeps finish reports. Test-only; it implements nothing the real server must copy.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tarStream from 'tar-stream';
import {
  TARGET_TYPE_HEADER,
  type FinishRunRequest,
  type RunSpec,
  type WorkerCheckin,
  type WorkerMessage,
} from '../../protocol/index.js';

export interface Upload {
  uuid: string;
  assignmentId: string;
  files: Map<string, string>;
}

export interface Blob {
  type: 'file' | 'directory';
  /** A file's bytes, or a plain tar of a directory. */
  body: Buffer;
}

export class FakeServer {
  readonly checkins: WorkerCheckin[] = [];
  readonly starts: Array<{ uuid: string; assignment_id: string }> = [];
  readonly uploads: Upload[] = [];
  readonly finishes: Array<FinishRunRequest & { uuid: string }> = [];
  readonly blobs = new Map<string, Blob>();
  /** Answers for the next start/finish calls (default: accepted). Shifted one per call. */
  readonly startAnswers: Array<{ status: number; body: unknown }> = [];
  readonly finishAnswers: Array<{ status: number; body: unknown }> = [];
  blobRequests = 0;
  /** When set, a blob is sent in four parts this many ms apart (a slow download). */
  blobPartDelayMs = 0;
  private queue: WorkerMessage[] = [];
  private pollers: Array<() => void> = [];
  private finishWaiters: Array<() => void> = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => send(res, 500, { error: { code: 'internal', message: String(error) } }));
    });
  }

  url: string | null = null;

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const p of this.pollers.splice(0)) p();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  sendMessage(message: WorkerMessage): void {
    this.queue.push(message);
    for (const p of this.pollers.splice(0)) p();
  }

  sendRun(run: RunSpec, assignmentId = `a-${run.uuid.slice(2, 10)}`): void {
    this.sendMessage({ type: 'run', assignment_id: assignmentId, run });
  }

  async waitForFinish(uuid: string, timeoutMs = 60_000): Promise<FinishRunRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.finishes.find((f) => f.uuid === uuid);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No finish for ${uuid} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.finishWaiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The stages the worker reported for a run, in order, without repeats. */
  stagesOf(uuid: string): string[] {
    const stages: string[] = [];
    for (const c of this.checkins) {
      const r = c.runs.find((x) => x.uuid === uuid);
      if (r && stages[stages.length - 1] !== r.state) stages.push(r.state);
    }
    return stages;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (p === '/rest/oauth2/token') {
      await readBody(req);
      return send(res, 200, { access_token: 't', token_type: 'Bearer', expires_in: 3600, user: { id: '1', user_name: 'u', is_root: false } });
    }
    if (req.headers.authorization !== 'Bearer t') return send(res, 401, { error: { code: 'unauthorized', message: 'no token' } });
    if (/\/checkin$/.test(p)) {
      this.checkins.push(JSON.parse((await readBody(req)).toString()) as WorkerCheckin);
      return send(res, 200, { checkin_seconds: 1, messages: [] });
    }
    if (/\/messages$/.test(p)) return this.poll(res, Number(url.searchParams.get('wait') ?? '0'));
    if ((m = /\/runs\/([^/]+)\/start$/.exec(p))) {
      const body = JSON.parse((await readBody(req)).toString()) as { assignment_id: string };
      this.starts.push({ uuid: m[1] ?? '', assignment_id: body.assignment_id });
      const answer = this.startAnswers.shift() ?? { status: 200, body: { accepted: true } };
      return send(res, answer.status, answer.body);
    }
    if ((m = /\/runs\/([^/]+)\/contents$/.exec(p))) {
      const files = await untar(req);
      this.uploads.push({ uuid: m[1] ?? '', assignmentId: url.searchParams.get('assignment_id') ?? '', files });
      return send(res, 200, { accepted: true });
    }
    if ((m = /\/runs\/([^/]+)\/finish$/.exec(p))) {
      const body = JSON.parse((await readBody(req)).toString()) as FinishRunRequest;
      const answer = this.finishAnswers.shift() ?? { status: 200, body: { accepted: true } };
      if (answer.status === 200) this.finishes.push({ ...body, uuid: m[1] ?? '' });
      for (const w of this.finishWaiters.splice(0)) w();
      return send(res, answer.status, answer.body);
    }
    if ((m = /^\/rest\/bundles\/([^/]+)\/contents\/blob\/?(.*)$/.exec(p))) {
      this.blobRequests += 1;
      const blob = this.blobs.get(`${m[1]}:${decodeURIComponent(m[2] ?? '')}`);
      if (!blob) return send(res, 404, { error: { code: 'not_found', message: 'no such target' } });
      res.writeHead(200, { [TARGET_TYPE_HEADER]: blob.type, 'content-type': 'application/octet-stream' });
      const part = this.blobPartDelayMs > 0 ? Math.ceil(blob.body.length / 4) : blob.body.length;
      let at = 0;
      for (; at + part < blob.body.length; at += part) {
        res.write(blob.body.subarray(at, at + part));
        await new Promise((r) => setTimeout(r, this.blobPartDelayMs));
      }
      return void res.end(blob.body.subarray(at));
    }
    send(res, 404, { error: { code: 'not_found', message: `no route ${p}` } });
  }

  private poll(res: ServerResponse, waitSeconds: number): void {
    const pending: { timer?: NodeJS.Timeout } = {};
    const answer = (): void => {
      clearTimeout(pending.timer);
      this.pollers = this.pollers.filter((p) => p !== answer);
      send(res, 200, { messages: this.queue.splice(0) });
    };
    if (this.queue.length > 0) return answer();
    pending.timer = setTimeout(answer, Math.min(waitSeconds, 2) * 1000);
    this.pollers.push(answer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function untar(req: IncomingMessage): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tarStream.extract();
  req.pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const name = entry.header.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (name !== '' && name !== '.') files.set(entry.header.type === 'directory' ? `${name}/` : name, Buffer.concat(chunks).toString());
  }
  return files;
}

/** A plain tar of a few files, as the server sends a directory dependency. */
export async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o600 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
