// What fault scenarios share: submitting runs over REST (a burst of 200 cannot wait for 200 `cl`
// processes), waiting until bundles are final with a deadline, turning the outcome into a
// scenario-table row, restarting dockerd, and a tiny tmpfs work dir. Assertions stay in tests.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isFinalState, type Bundle, type BundleState } from '../../src/protocol/index.js';
import { Cluster, DEFAULT_IMAGE, REPO_ROOT, waitFor } from '../e2e/harness.js';
import { computeRow, recordRow, type Outcome, type ScenarioRow } from './scenario-table.js';

const run = promisify(execFile);
const POLL_MS = 500;

/** Flags that make a server notice a silent worker within seconds. */
export const FAST_SERVER_FLAGS = ['--default-cpu-image', DEFAULT_IMAGE, '--worker-timeout-seconds', '4'];
/** Flags that make a worker check in every second. */
export const FAST_WORKER_FLAGS = ['--checkin-frequency-seconds', '1', '--gpuset', 'NONE'];

/** A run that prints 1..N, one line a second: its stdout shows whether any second was lost. */
export function ticks(count: number): string {
  return `for i in $(seq 1 ${count}); do echo $i; sleep 1; done`;
}

/** The stdout of `ticks(count)`, as `cl cat` prints it. */
export function tickLines(count: number): string {
  return Array.from({ length: count }, (_, i) => String(i + 1)).join('\n');
}

/** A server with FAST_SERVER_FLAGS (plus `extraServerArgs`) that bin/cl works on; no worker yet. */
export async function startFaultCluster(extraServerArgs: string[] = []): Promise<{ cluster: Cluster; client: FaultClient }> {
  const cluster = new Cluster();
  try {
    await cluster.startServer([...FAST_SERVER_FLAGS, ...extraServerArgs]);
    await cluster.clOk(['work', `${cluster.url}::`]);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { cluster, client: new FaultClient(cluster) };
}

/** A REST client for one cluster that logs in again after a server restart. */
export class FaultClient {
  private token = '';

  constructor(private readonly cluster: Cluster) {}

  /** The bundle, or null when the server answers that it does not exist. */
  async bundle(uuid: string): Promise<Bundle | null> {
    const answer = await this.request(`/rest/bundles/${uuid}`);
    if (answer.status === 404) return null;
    if (!answer.ok) throw new Error(`GET bundle ${uuid}: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as Bundle;
  }

  /** The bundles of the home worksheet, newest last. */
  async homeBundles(): Promise<Bundle[]> {
    const home = await this.homeWorksheet();
    const answer = await this.request(`/rest/worksheets/${home}/contents`);
    if (!answer.ok) throw new Error(`GET worksheet contents: ${answer.status} ${await answer.text()}`);
    return ((await answer.json()) as { bundles: Bundle[] }).bundles;
  }

  /** Size in bytes of the file at `path` inside the bundle. */
  async fileSize(uuid: string, path: string): Promise<number> {
    const answer = await this.request(`/rest/bundles/${uuid}/contents/info/${path}`);
    if (!answer.ok) throw new Error(`GET contents info ${uuid}/${path}: ${answer.status} ${await answer.text()}`);
    return ((await answer.json()) as { size: number }).size;
  }

  /** Creates one run per command on the home worksheet (each asks for one CPU); returns uuids. */
  async submitRuns(commands: readonly string[], namePrefix: string): Promise<string[]> {
    const home = await this.homeWorksheet();
    const uuids: string[] = [];
    for (const [index, command] of commands.entries()) {
      const answer = await this.request(`/rest/bundles?worksheet=${home}`, {
        method: 'POST',
        body: { bundle_type: 'run', command, metadata: { name: `${namePrefix}-${index + 1}`, request_cpus: 1 }, dependencies: [] },
      });
      if (!answer.ok) throw new Error(`POST bundle: ${answer.status} ${await answer.text()}`);
      uuids.push(((await answer.json()) as Bundle).uuid);
    }
    return uuids;
  }

  /** Polls until `uuid` is in one of `states`; returns the bundle. */
  async waitForState(uuid: string, states: readonly BundleState[], timeoutMs = 90_000): Promise<Bundle> {
    return waitFor(async () => {
      const bundle = await this.bundle(uuid);
      return bundle !== null && states.includes(bundle.state) ? bundle : undefined;
    }, timeoutMs, `${uuid} to reach ${states.join('|')}`);
  }

  private async homeWorksheet(): Promise<string> {
    const answer = await this.request('/rest/worksheets/home');
    if (!answer.ok) throw new Error(`GET home worksheet: ${answer.status} ${await answer.text()}`);
    return ((await answer.json()) as { uuid: string }).uuid;
  }

  private async request(path: string, options: { method?: string; body?: unknown } = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (this.token === '') this.token = await this.cluster.token();
      const answer = await fetch(`${this.cluster.url}${path}`, {
        method: options.method ?? 'GET',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      if (answer.status !== 401 || attempt > 0) return answer;
      this.token = '';
    }
  }
}

/** The bundles as last seen: when all are final, or when the deadline passes (never throws). */
export async function waitUntilFinal(client: FaultClient, uuids: readonly string[], timeoutMs: number): Promise<(Bundle | null)[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bundles: (Bundle | null)[] = [];
    for (const uuid of uuids) bundles.push(await client.bundle(uuid));
    const allFinal = bundles.every((b) => b === null || isFinalState(b.state));
    if (allFinal || Date.now() > deadline) return bundles;
    await sleep(POLL_MS);
  }
}

/**
 * Waits until the scenario's bundles are final (or the deadline passes), records its row in the
 * scenario table and returns it with the bundles, for the test to assert on.
 */
export async function finishScenario(
  client: FaultClient,
  scenario: string,
  expected: readonly { uuid: string; states: readonly BundleState[] }[],
  timeoutMs: number,
): Promise<{ row: ScenarioRow; bundles: Map<string, Bundle | null> }> {
  const found = await waitUntilFinal(client, expected.map((e) => e.uuid), timeoutMs);
  const outcomes: Outcome[] = expected.map((e, i) => ({ uuid: e.uuid, expected: e.states, bundle: found[i] ?? null }));
  const row = computeRow(scenario, outcomes);
  recordRow(row);
  return { row, bundles: new Map(outcomes.map((o) => [o.uuid, o.bundle])) };
}

/** Waits until no container carries one of the cluster's work-dir labels (workers clean up after runs). */
export async function waitForNoContainers(cluster: Cluster, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => ((await cluster.containers()).length === 0 ? true : undefined), timeoutMs, 'no container of this cluster to be left');
}

/** Text of `uuid/stdout` as `cl cat` shows it. */
export async function stdoutOf(cluster: Cluster, uuid: string): Promise<string> {
  return cluster.clOk(['cat', `${uuid}/stdout`]);
}

/** Waits until `uuid/stdout` contains the line `line`: the container really runs. */
export async function waitForLine(cluster: Cluster, uuid: string, line: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(async () => {
    const cat = await cluster.cl(['cat', `${uuid}/stdout`]);
    return cat.code === 0 && cat.stdout.split('\n').includes(line) ? true : undefined;
  }, timeoutMs, `line ${line} in ${uuid}/stdout`);
}

/**
 * Stops dockerd (SIGTERM to the pid in its pid file, waiting for it to exit) and starts it again
 * the way set-up did, with scripts/ensure-docker.sh. Needs root, as CI runs.
 */
export async function restartDockerd(): Promise<void> {
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('restartDockerd: /var/run/docker.pid names no process');
  process.kill(pid, 'SIGTERM');
  await waitFor(() => (isAlive(pid) ? undefined : true), 60_000, `dockerd (pid ${pid}) to exit`);
  await run('bash', [join(REPO_ROOT, 'scripts', 'ensure-docker.sh')], { cwd: REPO_ROOT });
}

/** Mounts a tmpfs of `sizeMiB` at `dir` (made if missing); returns a function that unmounts it. */
export async function mountTmpfs(dir: string, sizeMiB: number): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return async () => {
    await run('umount', [dir]);
  };
}

function isAlive(pid: number): boolean {
  // A zombie still answers kill -0; its state in /proc says it has exited.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
