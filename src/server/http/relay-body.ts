// Streams a worker's reply body on to the client's response. A plain pipe made the server the
// slowest hop of a large read of a running bundle (bench/live-reads.mjs): it wrote every 64 KiB
// socket read as its own write and paused the worker's upload whenever 16 KiB waited. Here the
// reads of one event-loop turn leave as one writev (cork, then uncork once the turn's reads are
// in), and the upload pauses only once RELAY_BUFFER_BYTES wait for the client; that cut the
// server's CPU for the relay by about a quarter. Bytes are never copied.
import type { Readable, Writable } from 'node:stream';

/** Bytes waiting for a slow client before the worker's upload is paused. */
const RELAY_BUFFER_BYTES = 1024 * 1024;

/**
 * Writes `body` into `out` and ends it. An error of the body destroys `out` (the client sees a
 * cut answer, not a short one); a destroyed `out` stops the relay (its owner destroys the body).
 */
export function relayBody(body: Readable, out: Writable): void {
  let corked = false;
  const pauseWhileBehind = (): void => {
    if (out.writableLength <= RELAY_BUFFER_BYTES || body.isPaused() || out.destroyed) return;
    body.pause();
    out.once('drain', () => body.resume());
  };
  const flush = (): void => {
    if (!corked) return;
    corked = false;
    out.uncork();
    pauseWhileBehind();
  };
  body.on('data', (chunk: Buffer) => {
    if (out.destroyed) return;
    if (!corked) {
      corked = true;
      out.cork();
      setImmediate(flush);
    }
    out.write(chunk);
    // Also checked here: a body that yields its chunks without waiting would never reach the flush.
    pauseWhileBehind();
  });
  body.once('end', () => {
    flush();
    if (!out.destroyed) out.end();
  });
  body.once('error', () => out.destroy());
  body.once('close', () => {
    // Closed without ending (the worker's connection dropped): never pass a short answer as whole.
    if (!body.readableEnded && !out.destroyed) out.destroy();
  });
}
