// A real Docker registry (Debian's `docker-registry` package, scripts/setup.sh installs it) on a
// free loopback port with its own temp storage, for tests that pull. Docker pulls from and pushes
// to 127.0.0.0/8 registries over plain HTTP without any daemon configuration. Also small images
// to push into it, made by `docker import` of one random file (so each has its own id).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { waitFor, HANG_DEADLINE_MS } from './wait-for.js';

const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, the prefix of every image name in it. */
  host: string;
  /** Everything the registry logged so far (one access line per request). */
  log(): string;
  /** Deletes every stored blob but `keep` (a manifest's digest): pulls of it then fail midway, in the pull stream. */
  dropBlobsExcept(keep: string): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a registry and waits until it answers /v2/; throws (never skips) when it cannot. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(`${REGISTRY_BINARY} is missing: run scripts/setup.sh (or apt-get install docker-registry) first.`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cl-test-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: info, accesslog: { disabled: false } }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'storage')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}" }`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await gone;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`docker-registry exited at start:\n${output.slice(-2000)}`);
        const answer = await fetch(`http://${host}/v2/`).catch(() => null);
        return answer?.status === 200 ? true : undefined;
      },
      HANG_DEADLINE_MS,
      `docker-registry to answer on ${host}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const blobs = path.join(dir, 'storage/docker/registry/v2/blobs/sha256');
  const dropBlobsExcept = (keep: string): void => {
    for (const prefix of readdirSync(blobs)) {
      for (const digest of readdirSync(path.join(blobs, prefix))) {
        if (`sha256:${digest}` !== keep) rmSync(path.join(blobs, prefix, digest), { recursive: true, force: true });
      }
    }
  };
  return { host, log: () => output, dropBlobsExcept, stop };
}

export function docker(...args: string[]): string {
  return execFileSync('/usr/bin/docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Makes an image `name` holding one file of `bytes` random bytes (a fresh id each time); returns its id. */
export function makeRandomImage(name: string, bytes: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cl-test-image-'));
  try {
    writeFileSync(path.join(dir, 'data'), randomBytes(bytes));
    const tarball = execFileSync('tar', ['-C', dir, '-c', 'data']);
    execFileSync('/usr/bin/docker', ['import', '-', name], { input: tarball, stdio: ['pipe', 'ignore', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return docker('image', 'inspect', '--format', '{{.Id}}', name);
}

/** Pushes `name` (which must live on a local registry) and returns the manifest digest the registry gave it. */
export function pushImage(name: string): string {
  const out = docker('push', name);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
  if (digest === undefined) throw new Error(`docker push ${name} printed no digest:\n${out}`);
  return digest;
}

/** Removes every local name of these images (and the images), if present. */
export function removeLocalImages(...names: string[]): void {
  for (const name of names) {
    try {
      docker('image', 'rm', '--force', name);
    } catch {
      // Not present: nothing to remove.
    }
  }
}

export function hasLocalImage(name: string): boolean {
  try {
    docker('image', 'inspect', name);
    return true;
  } catch {
    return false;
  }
}
