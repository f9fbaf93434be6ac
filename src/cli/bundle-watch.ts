// Watching a bundle until it reaches a final state (ready, failed, killed), and following a run's
// output meanwhile. Polling backs off from 200 ms to 1 s. How output is obtained sits behind
// RunOutputSource: the live source follows the worker's stream while the run is active and reads
// what is left from the stored results once it is final.
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { FrameDecoder } from '../common/output-frames.js';
import { ApiError, Bundle, isFinalState, liveRoutes, routes } from '../protocol/index.js';
import type { ApiClient } from './api-client.js';
import { terminalText } from './format/terminal-text.js';
import type { CliIo } from './io.js';

const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 1000;
/** How long one wait request may hold on the server; the client allows a margin beyond it. */
const WAIT_SECONDS = 30;

export async function fetchBundle(api: ApiClient, uuid: string): Promise<Bundle> {
  return api.json(routes.bundle(uuid), Bundle);
}

/**
 * Waits until the bundle is final. Without `onPoll`, the server holds each request until the end
 * (or WAIT_SECONDS), so the end is seen at once; with it (to follow output meanwhile), polls and
 * calls `onPoll` with each state seen.
 */
export async function waitUntilFinal(api: ApiClient, uuid: string, onPoll?: (bundle: Bundle) => Promise<void>): Promise<Bundle> {
  if (onPoll === undefined) {
    try {
      for (;;) {
        const bundle = await api.json(routes.waitBundle(uuid, WAIT_SECONDS), Bundle, { timeoutMs: (WAIT_SECONDS + 30) * 1000 });
        if (isFinalState(bundle.state)) return bundle;
      }
    } catch (error) {
      // A server from before the wait route: poll it instead.
      if (!(error instanceof ApiError && error.code === 'not_found' && error.message.startsWith('No route'))) throw error;
      return pollUntilFinal(api, uuid, async () => undefined);
    }
  }
  return pollUntilFinal(api, uuid, onPoll);
}

/** Polls, backing off from FIRST_POLL_MS to MAX_POLL_MS, until the bundle is final. */
async function pollUntilFinal(api: ApiClient, uuid: string, onPoll: (bundle: Bundle) => Promise<void>): Promise<Bundle> {
  for (let delay = FIRST_POLL_MS; ; delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.5))) {
    const bundle = await fetchBundle(api, uuid);
    await onPoll(bundle);
    if (isFinalState(bundle.state)) return bundle;
    await sleep(delay);
  }
}

/** Where a followed run's stdout and stderr come from. */
export interface RunOutputSource {
  /** Writes the output that appeared since the last call, given the bundle's latest state. */
  pump(bundle: Bundle): Promise<void>;
}

/**
 * Follows stdout and stderr live: while the run is preparing or running, the server pushes new
 * bytes as the worker sees them (one streamed request, reopened from the last offsets when it
 * ends); once the run is final, whatever is left is read from the stored results.
 */
export class LiveOutputSource implements RunOutputSource {
  private readonly offsets = { stdout: 0, stderr: 0 };
  private done = false;
  /** Whether the last byte written (to either stream) ended a line, so that a note can follow. */
  private atLineStart = true;

  constructor(
    private readonly api: ApiClient,
    private readonly io: CliIo,
  ) {}

  async pump(bundle: Bundle): Promise<void> {
    if (this.done) return;
    const final = isFinalState(bundle.state);
    if (final) {
      await this.drain(bundle.uuid);
      this.done = true;
    } else if (bundle.state === 'preparing' || bundle.state === 'running') {
      // A stream cut by a worker going away is picked up again at the next poll, from the offsets.
      await this.drain(bundle.uuid).catch((error: unknown) => {
        const transient = !(error instanceof ApiError) || error.retryable || ['conflict', 'not_found'].includes(error.code);
        if (!transient) throw error;
      });
    }
  }

  /** Writes `line` on stderr after the output, on a line of its own. */
  writeNote(line: string): void {
    this.io.stderr.write(`${this.atLineStart ? '' : '\n'}${line}\n`);
  }

  private async drain(uuid: string): Promise<void> {
    const response = await this.api.send(liveRoutes.follow(uuid, this.offsets), { timeoutMs: 0 });
    if (!response.body) return;
    const decoder = new FrameDecoder();
    for await (const chunk of response.body) {
      for (const frame of decoder.push(chunk)) {
        const dest = frame.stream === 'stdout' ? this.io.stdout : this.io.stderr;
        if (!dest.write(frame.data)) await once(dest, 'drain');
        this.offsets[frame.stream] += frame.data.length;
        if (frame.data.length > 0) this.atLineStart = frame.data[frame.data.length - 1] === 0x0a;
      }
    }
  }
}

/** Follows a run to its end, printing its output; returns the final bundle. */
export async function followRun(api: ApiClient, uuid: string, source: RunOutputSource): Promise<Bundle> {
  return waitUntilFinal(api, uuid, (bundle) => source.pump(bundle));
}

/**
 * The line printed on stderr when a waited-for bundle ends: its uuid, final state and failure
 * message. `--tail` prints it always (after the output); plain waits only when it is not ready.
 */
export function describeFinal(bundle: Bundle): string {
  const message = bundle.metadata.failure_message;
  return terminalText(`${bundle.uuid} ${bundle.state}${typeof message === 'string' && message !== '' ? `: ${message}` : ''}`);
}

/**
 * Waits for the end; with `tail`, prints the output meanwhile and then the final state on stderr
 * (stdout holds only the uuid and the run's own output). Without it, the state only on failure.
 */
export async function waitForRun(api: ApiClient, io: CliIo, uuid: string, tail: boolean): Promise<Bundle> {
  if (!tail) {
    const final = await waitUntilFinal(api, uuid);
    if (final.state !== 'ready') io.stderr.write(`${describeFinal(final)}\n`);
    return final;
  }
  const output = new LiveOutputSource(api, io);
  const final = await followRun(api, uuid, output);
  output.writeNote(describeFinal(final));
  return final;
}
