// Watching a bundle until it reaches a final state (ready, failed, killed), and following a run's
// output meanwhile. Polling backs off from 200 ms to 1 s. How output is obtained sits behind
// RunOutputSource: today the files are read once the run is final; a live stream from the worker
// can replace that source without touching the loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { Bundle, isFinalState, routes } from '../protocol/index.js';
import type { ApiClient } from './api-client.js';
import { copyBlobIfPresent } from './contents.js';
import type { CliIo } from './io.js';

const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 1000;

export async function fetchBundle(api: ApiClient, uuid: string): Promise<Bundle> {
  return api.json(routes.bundle(uuid), Bundle);
}

/** Polls until the bundle is final, calling `onPoll` with each state seen. */
export async function waitUntilFinal(
  api: ApiClient,
  uuid: string,
  onPoll: (bundle: Bundle) => Promise<void> = async () => undefined,
): Promise<Bundle> {
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

/** Reads stdout and stderr once, when the run is final (files of running bundles are not served yet). */
export class FinalOutputSource implements RunOutputSource {
  private copied = false;

  constructor(
    private readonly api: ApiClient,
    private readonly io: CliIo,
  ) {}

  async pump(bundle: Bundle): Promise<void> {
    if (this.copied || !isFinalState(bundle.state)) return;
    this.copied = true;
    await copyBlobIfPresent(this.api, bundle.uuid, 'stdout', this.io.stdout);
    await copyBlobIfPresent(this.api, bundle.uuid, 'stderr', this.io.stderr);
  }
}

/** Follows a run to its end, printing its output; returns the final bundle. */
export async function followRun(api: ApiClient, uuid: string, source: RunOutputSource): Promise<Bundle> {
  return waitUntilFinal(api, uuid, (bundle) => source.pump(bundle));
}

/** The line printed on stderr when a waited-for bundle did not end `ready`. */
export function describeUnsuccessful(bundle: Bundle): string {
  const message = bundle.metadata.failure_message;
  return `${bundle.uuid} ${bundle.state}${typeof message === 'string' && message !== '' ? `: ${message}` : ''}`;
}
