// V8 settings for the long-running processes that move bundle contents (cl-server, cl-worker).
import { setFlagsFromString } from 'node:v8';

/**
 * Makes every full garbage collection one atomic pause instead of incremental marking.
 *
 * A transfer allocates about two buffers per MiB moved (socket reads, 1 MiB frames), and buffers
 * that wait on a slow disk for a few milliseconds outlive two young collections and reach the old
 * generation. V8 counts their bytes as external memory and starts incremental marking whenever
 * that count grows by 64 MB. Buffers allocated while marking runs count as alive for that cycle,
 * so every cycle leaves enough behind to start the next one: once it began, marking ran almost all
 * the time, and the server spent 2-4 s of CPU per GiB uploaded instead of 0.8 s (measured, five
 * uploads of 1 GiB in a row). An atomic collection frees them at once and the loop never starts:
 * 0-3 full collections per GiB. The heap of these processes is tens of MB, so one such pause is
 * about 5-10 ms.
 */
export function preferAtomicGarbageCollection(): void {
  setFlagsFromString('--no-incremental-marking');
}
