// The manager's REST client: a user session (the manager's own credentials), the staged runs it
// may serve and the workers the server lists. It logs in again once when its token expires; it
// holds no scaling logic.
import type { Credentials } from '../common/credentials.js';
import { HttpClient } from '../common/http-client.js';
import { ApiError, StagedRunsResponse, TokenResponse, WorkerInfo, routes, type StagedRunInfo } from '../protocol/index.js';

export interface ManagerServerClientOptions {
  serverUrl: string;
  credentials: Credentials;
}

export class ManagerServerClient {
  private readonly http: HttpClient;

  constructor(private readonly options: ManagerServerClientOptions) {
    this.http = new HttpClient({ baseUrl: options.serverUrl, timeoutMs: 30_000 });
  }

  async login(): Promise<void> {
    this.http.token = undefined;
    const { username, password } = this.options.credentials;
    const answer = await this.http.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username, password } });
    this.http.token = answer.access_token;
  }

  /** Staged runs the manager's user may see, filtered by the server to one queue when given. */
  stagedRuns(queue: string | null): Promise<StagedRunInfo[]> {
    return this.withLogin(async () => (await this.http.json(routes.stagedRuns(queue === null ? {} : { queue }), StagedRunsResponse)).runs);
  }

  /** Ids of the manager user's own workers that the server counts as online. */
  onlineWorkerIds(): Promise<Set<string>> {
    return this.withLogin(async () => {
      const workers = await this.http.json(routes.workersInfo(), WorkerInfo.array());
      const mine = workers.filter((w) => w.online && w.owner_name === this.options.credentials.username);
      return new Set(mine.map((w) => w.id));
    });
  }

  /** Runs `call`, logging in first if needed and once more when the token was refused. */
  private async withLogin<T>(call: () => Promise<T>): Promise<T> {
    if (this.http.token === undefined) await this.login();
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'unauthorized') throw error;
      await this.login();
      return call();
    }
  }
}
