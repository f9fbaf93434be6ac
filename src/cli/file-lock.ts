// A lock between processes on one machine: a file created with O_EXCL that holds the owner's pid.
// A lock whose owner is dead, or that is older than `staleMs`, is broken. It guards short
// critical sections only (starting the local server), never long-lived ownership.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions<T> {
  /** Give up waiting after this many milliseconds. */
  timeoutMs: number;
  /** A lock file older than this is considered abandoned. */
  staleMs: number;
  /** Checked while waiting; a result other than undefined ends the wait without the lock. */
  whileWaiting: () => Promise<T | undefined>;
}

export interface LockResult<T> {
  /** False when `whileWaiting` produced the value while another process held the lock. */
  acquired: boolean;
  value: T;
}

/** Runs `critical` holding the lock, unless `whileWaiting` yields a value first. */
export async function withFileLock<T>(path: string, options: LockOptions<T>, critical: () => Promise<T>): Promise<LockResult<T>> {
  const deadline = Date.now() + options.timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (await tryCreate(path)) {
      try {
        return { acquired: true, value: await critical() };
      } finally {
        await unlink(path).catch(() => undefined);
      }
    }
    const waited = await options.whileWaiting();
    if (waited !== undefined) return { acquired: false, value: waited };
    if (await isStale(path, options.staleMs)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${options.timeoutMs / 1000}s waiting for the lock ${path}.`);
    }
    await sleep(delay);
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) return true;
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false; // vanished or half-written: its owner is still busy or just finished
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}
