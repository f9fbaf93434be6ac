// A loopback HTTP proxy in front of a real server, for worker tests that need a fault the real
// server would not produce. Every request passes through untouched unless a rule picks it; a rule
// can then answer in the server's place (a refused call, a forged message), cut the connection,
// hold the request until the test lets it go, edit the server's JSON answer, or hand the answer on
// in chunks at the test's pace (a slow link). It also logs what it saw, JSON bodies parsed, for the
// few facts the server does not show (what a check-in said). Test-only; it knows no protocol.
// Like many proxies it does not take part in protocol upgrades: hop-by-hop headers stay behind, so
// a download asked for as frames comes through it as an ordinary body (the client's fallback).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOP_BY_HOP_HEADERS } from '../../src/common/http-headers.js';
import { HANG_DEADLINE_MS, waitFor } from './wait-for.js';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** The parsed body of a JSON request; undefined for other bodies. */
  json: unknown;
  /** The status sent back to the client, once the answer is complete (or 0 when it was cut). */
  status?: number;
}

/** Decided when the request arrives: the server may never see it. */
type RequestFault =
  | { answer: { status: number; body: unknown } }
  | { cut: true }
  | { hold: Promise<unknown> };
/** Decided when the server's answer arrives (so a long poll already in flight is caught too). */
type AnswerFault =
  | { edit: (body: unknown) => unknown }
  | { pace: { chunkBytes: number; between: (sentBytes: number) => Promise<unknown> } };
export type Fault = RequestFault | AnswerFault;

interface Rule {
  match: (request: SeenRequest) => boolean;
  fault: Fault;
  timesLeft: number;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  private rules: Rule[] = [];
  private readonly open = new Set<{ seen: SeenRequest; cut: () => void }>();
  private readonly server: Server;
  url = '';

  constructor(private readonly target: string) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const o of this.open) o.cut();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Applies `fault` to the next `times` requests that `match`; returns a function that removes the rule. */
  inject(match: (request: SeenRequest) => boolean, fault: Fault, times = Infinity): () => void {
    const rule: Rule = { match, fault, timesLeft: times };
    this.rules.push(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  /** Cuts the connections of requests in flight that match (e.g. a long poll the server holds). */
  cutOpen(match: (request: SeenRequest) => boolean): void {
    for (const o of this.open) if (match(o.seen)) o.cut();
  }

  /** The first request that matches among those seen from index `from` on, waiting for it if need be. */
  waitForRequest(match: (request: SeenRequest) => boolean, what: string, from = 0): Promise<SeenRequest> {
    return waitFor(() => this.seen.slice(from).find(match), HANG_DEADLINE_MS, what);
  }

  private take(seen: SeenRequest, phase: 'request' | 'answer'): Fault | undefined {
    const rule = this.rules.find(
      (r) => r.timesLeft > 0 && (('edit' in r.fault || 'pace' in r.fault) === (phase === 'answer')) && r.match(seen),
    );
    if (rule) rule.timesLeft -= 1;
    return rule?.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const isJson = (req.headers['content-type'] ?? '').includes('json');
    const body = isJson ? await readAll(req) : null;
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', json: body ? parseJson(body) : undefined };
    this.seen.push(seen);
    res.on('close', () => (seen.status = res.writableFinished ? res.statusCode : 0));
    const fault = this.take(seen, 'request');
    if (fault && 'answer' in fault) return sendJson(res, fault.answer.status, fault.answer.body);
    if (fault && 'cut' in fault) return void req.socket.destroy();
    if (fault && 'hold' in fault) await fault.hold;
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP_HEADERS.has(name)));
    const upstream = request(`${this.target}${seen.path}`, { method: seen.method, headers });
    const entry = { seen, cut: () => (upstream.destroy(), res.destroy()) };
    this.open.add(entry);
    res.on('close', () => this.open.delete(entry));
    upstream.on('error', () => res.destroy());
    upstream.on('response', (answer) => {
      this.relay(seen, answer, res).catch(() => res.destroy());
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  }

  private async relay(seen: SeenRequest, answer: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.take(seen, 'answer');
    if (!fault || !('edit' in fault || 'pace' in fault)) {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      return;
    }
    const bytes = await readAll(answer);
    if ('edit' in fault) return sendJson(res, answer.statusCode ?? 502, fault.edit(parseJson(bytes)));
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    for (let at = 0; at < bytes.length; at += fault.pace.chunkBytes) {
      if (at > 0) await fault.pace.between(at);
      res.write(bytes.subarray(at, at + fault.pace.chunkBytes));
    }
    res.end();
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
