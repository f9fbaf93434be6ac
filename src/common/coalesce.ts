// Gathers a stream's small chunks (a socket delivers 64 KiB at a time) into large ones before
// they reach an unpacker, which writes each file in slices of the chunks it is given: one write of
// 1 MiB instead of sixteen of 64 KiB, each a round trip to the thread pool.
import { Transform } from 'node:stream';

export const COALESCED_CHUNK_BYTES = 1024 * 1024;

export function coalesceChunks(target = COALESCED_CHUNK_BYTES): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  return new Transform({
    // Room for a few chunks in each direction, so that reading the socket and writing the disk overlap.
    readableHighWaterMark: target * 2,
    writableHighWaterMark: target,
    transform(chunk: Buffer, _encoding, callback) {
      if (heldBytes === 0 && chunk.length >= target) return callback(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < target) return callback();
      const merged = Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      callback(null, merged);
    },
    flush(callback) {
      callback(null, heldBytes > 0 ? Buffer.concat(held, heldBytes) : undefined);
    },
  });
}
