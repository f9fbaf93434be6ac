// The worker's calls to the server: login, check-in, messages, run start/upload/finish and
// dependency downloads, all on worker routes with a worker token (client id codalab_worker_client,
// refused on user routes). It holds the token and logs in again once when it expires; it holds no
// worker logic and does not retry (callers decide, through retry.ts).
import type { Readable } from 'node:stream';
import type { FileSlice } from '../common/file-slice.js';
import { HttpClient } from '../common/http-client.js';
import type { HttpResponse } from '../common/http-response.js';
import {
  AcceptedResponse,
  ApiError,
  IncomingCheckinResponse,
  LIVE_REPLY_HEADER,
  liveRoutes,
  type LiveReplyHeader,
  IncomingMessagesResponse,
  TokenResponse,
  WORKER_CLIENT_ID,
  routes,
  type FinishRunRequest,
  type StartRunRequest,
  type WorkerCheckin,
} from '../protocol/index.js';

export interface ServerApiOptions {
  serverUrl: string;
  username: string;
  password: string;
  workerId: string;
}

export class WorkerServerApi {
  private readonly http: HttpClient;
  private readonly options: ServerApiOptions;
  private refreshToken: string | undefined;
  private renewing: Promise<void> | null = null;

  constructor(options: ServerApiOptions) {
    this.options = options;
    this.http = new HttpClient({ baseUrl: options.serverUrl });
  }

  get serverUrl(): string {
    return this.http.baseUrl;
  }

  async login(signal?: AbortSignal): Promise<void> {
    this.http.token = undefined;
    const answer = await this.http.json(routes.token(), TokenResponse, {
      json: { grant_type: 'password', username: this.options.username, password: this.options.password, client_id: WORKER_CLIENT_ID },
      ...(signal ? { signal } : {}),
    });
    this.http.token = answer.access_token;
    this.refreshToken = answer.refresh_token;
  }

  /**
   * A new access token once the last one expired: through the refresh token while it lasts (a
   * password login each hour would leave another month-long refresh token behind every time),
   * else by password. Calls that meet the expiry together share one renewal.
   */
  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const refreshToken = this.refreshToken;
    if (refreshToken !== undefined) {
      try {
        const answer = await this.http.json(routes.token(), TokenResponse, { json: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: WORKER_CLIENT_ID } });
        this.http.token = answer.access_token;
        return;
      } catch (error) {
        // An expired or revoked refresh token: fall back to the password.
        if (!(error instanceof ApiError) || error.code !== 'unauthorized') throw error;
      }
    }
    await this.login();
  }

  /** Messages this worker does not know come back apart, in `messages.unknown`. */
  checkin(body: WorkerCheckin, signal?: AbortSignal): Promise<IncomingCheckinResponse> {
    return this.authed(() =>
      this.http.json(routes.checkin(this.options.workerId), IncomingCheckinResponse, { json: body, ...opt(signal) }),
    );
  }

  /** Long-polls for messages; those this worker does not know come back apart, in `messages.unknown`. */
  messages(waitSeconds: number, signal?: AbortSignal): Promise<IncomingMessagesResponse> {
    return this.authed(() =>
      this.http.json(routes.messages(this.options.workerId, waitSeconds), IncomingMessagesResponse, {
        timeoutMs: (waitSeconds + 30) * 1000,
        ...opt(signal),
      }),
    );
  }

  startRun(uuid: string, body: StartRunRequest, signal?: AbortSignal): Promise<AcceptedResponse> {
    return this.authed(() =>
      this.http.json(routes.startRun(this.options.workerId, uuid), AcceptedResponse, { json: body, ...opt(signal) }),
    );
  }

  /** Streams a tar of the run's contents; `makeBody` is called once per attempt. */
  uploadContents(uuid: string, assignmentId: string, makeBody: () => Readable, signal?: AbortSignal): Promise<AcceptedResponse> {
    return this.authed(() =>
      this.http.json(routes.runContents(this.options.workerId, uuid, assignmentId), AcceptedResponse, {
        method: 'PUT',
        body: makeBody(),
        headers: { 'content-type': 'application/x-tar' },
        ...opt(signal),
      }),
    );
  }

  commitResultsInPlace(uuid: string, assignmentId: string, signal?: AbortSignal): Promise<AcceptedResponse> {
    return this.authed(() =>
      this.http.json(routes.runContentsInPlace(this.options.workerId, uuid, assignmentId), AcceptedResponse, { method: 'POST', json: {}, ...opt(signal) }),
    );
  }

  finishRun(uuid: string, body: FinishRunRequest, signal?: AbortSignal): Promise<AcceptedResponse> {
    return this.authed(() =>
      this.http.json(routes.finishRun(this.options.workerId, uuid), AcceptedResponse, { json: body, ...opt(signal) }),
    );
  }

  /** Answers a relayed request: the header as JSON in LIVE_REPLY_HEADER, then the streamed body. */
  reply(requestId: string, header: LiveReplyHeader, body: Readable | FileSlice, signal?: AbortSignal): Promise<unknown> {
    // Not retried on a 401 (the body cannot be replayed): the token is refreshed by check-ins.
    return this.http.send(liveRoutes.reply(this.options.workerId, requestId), {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream', [LIVE_REPLY_HEADER]: JSON.stringify(header) },
      ...opt(signal),
    }).then((response) => response.body.destroy());
  }

  /** A dependency's bytes: a raw file or a plain tar of a directory (see TARGET_TYPE_HEADER). */
  downloadBlob(uuid: string, subPath: string, signal?: AbortSignal): Promise<HttpResponse> {
    return this.authed(() => this.http.send(routes.dependencyBlob(this.options.workerId, uuid, subPath), { timeoutMs: 0, framed: true, ...opt(signal) }));
  }

  /** Runs `call`; on 401 renews the token once and repeats it, since access tokens expire. */
  private async authed<T>(call: () => Promise<T>): Promise<T> {
    const used = this.http.token;
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'unauthorized') throw error;
      // Another call may have renewed the token since this one was sent: then just try again.
      if (this.http.token === used || this.http.token === undefined) await this.renew();
      return call();
    }
  }
}

function opt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}
