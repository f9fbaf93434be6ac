// The one way tests wait (STYLE.md habit 15): poll a probe until it returns a value, with a
// deadline that only catches hangs. Tests never sleep and then assert; to show that something did
// NOT happen, wait for a later event that must come after it, then check.
import { setTimeout as sleep } from 'node:timers/promises';

/** Generous by design: on a loaded two-core CI a healthy wait may take many times its usual time. */
export const HANG_DEADLINE_MS = 60_000;

/** Calls `probe` (backing off from 20 to 500 ms) until it returns something other than undefined. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(delay);
  }
}

/** Waits until `condition` holds. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = HANG_DEADLINE_MS): Promise<void> {
  await waitFor(async () => ((await condition()) ? true : undefined), timeoutMs, what);
}
