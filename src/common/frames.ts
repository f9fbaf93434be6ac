// A large body (a download, an upload) sent on a connection taken over with HTTP Upgrade, as
// Docker's API does for its streams, instead of inside an HTTP message. Node's HTTP parser copies
// every body byte once more and runs JavaScript for each 64 KiB piece: a 1 GiB download cost about
// 1 s more CPU that way than read straight from the socket, on the side that also unpacks it.
//
// The raw bytes come in frames, so that a connection cut short is not taken for a whole body:
//   [u32 length][length bytes] ...   a piece of the body
//   [u32 0]                           the end of the body
//   [u32 0xffffffff][u32 n][n bytes]  the sender failed; the bytes are its message (UTF-8)
import type { Readable, Writable } from 'node:stream';
import { Transform } from 'node:stream';
import { COALESCED_CHUNK_BYTES } from './coalesce.js';

const HEADER_BYTES = 4;
const END = 0;
const FAILED = 0xffffffff;
/** The longest piece a frame carries: a length must stay below FAILED. */
const MAX_FRAME = 64 * 1024 * 1024;

function header(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER_BYTES);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/**
 * Writes `source` to `socket` as frames, pausing it while the socket drains, and ends the socket
 * (unless `keepOpen`: an upload's sender still reads the answer). A failure of the source is sent
 * as a failed frame with its message; a closed socket stops (destroys) the source. Chunks are taken
 * as 'data' events: an async iterator would read whatever is buffered as one concatenated copy.
 */
export function sendFramed(source: Readable, socket: Writable, options: { keepOpen?: boolean } = {}): Promise<void> {
  const finish = (last: Buffer): void => void (options.keepOpen ? socket.write(last) : socket.end(last));
  return new Promise<void>((resolve) => {
    let done = false;
    const stop = (): void => {
      done = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onSourceClose);
      // A source destroyed or failing after this must not surface as an uncaught error.
      source.on('error', () => undefined);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      let flowing = true;
      for (let start = 0; start < chunk.length; start += MAX_FRAME) {
        const piece = start === 0 && chunk.length <= MAX_FRAME ? chunk : chunk.subarray(start, start + MAX_FRAME);
        socket.write(header(piece.length));
        flowing = socket.write(piece);
      }
      if (!flowing) source.pause();
    };
    const onDrain = (): void => void source.resume();
    const onEnd = (): void => {
      finish(header(END));
      stop();
    };
    const onError = (error: Error): void => {
      if (!socket.destroyed) {
        const message = Buffer.from(error.message, 'utf8');
        finish(Buffer.concat([header(FAILED), header(message.length), message]));
      }
      stop();
    };
    const onClose = (): void => {
      if (done) return;
      stop();
      source.destroy();
    };
    // A source that closes without ending or failing (a relayed reply whose sender went away)
    // must still tell the receiver, which otherwise waits for the end frame forever.
    const onSourceClose = (): void => {
      if (!done && !source.readableEnded) onError(new Error('the data stopped before its end'));
    };
    if (socket.destroyed) return onClose();
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onSourceClose);
    socket.on('drain', onDrain);
    socket.once('close', onClose);
  });
}

export class FramedBodyError extends Error {}

type Reading = 'header' | 'payload' | 'failure-length' | 'failure-message' | 'done';

/**
 * Turns the framed bytes back into the body, in chunks of about `target` bytes (so that whoever
 * writes them to disk makes few large writes: see coalesce.ts). It fails when the sender (named so
 * in the message) reported a failure, and when the bytes end before the end frame.
 */
export function decodeFrames(options: { sender?: string; target?: number } = {}): Transform {
  const { sender = 'server', target = COALESCED_CHUNK_BYTES } = options;
  let reading: Reading = 'header';
  /** Bytes of the current header or failure message gathered so far, and how many it needs. */
  let held: Buffer[] = [];
  let heldBytes = 0;
  let wanted = HEADER_BYTES;
  /** Payload bytes still to come in the current frame. */
  let remaining = 0;
  let out: Buffer | null = null;
  let filled = 0;

  const emit = (stream: Transform): void => {
    if (out === null || filled === 0) return;
    stream.push(filled === out.length ? out : out.subarray(0, filled));
    out = null;
    filled = 0;
  };

  /** Copies payload from `chunk` at `at`; returns where it stopped. */
  const takePayload = (stream: Transform, chunk: Buffer, at: number): number => {
    const take = Math.min(remaining, chunk.length - at);
    remaining -= take;
    if (filled === 0 && take >= target) {
      stream.push(chunk.subarray(at, at + take)); // already large: no copy
      return at + take;
    }
    let from = at;
    while (from < at + take) {
      out ??= Buffer.allocUnsafe(target);
      const copied = chunk.copy(out, filled, from, at + take);
      filled += copied;
      from += copied;
      if (filled === out.length) emit(stream);
    }
    return from;
  };

  return new Transform({
    readableHighWaterMark: target * 2,
    transform(chunk: Buffer, _encoding, callback) {
      let at = 0;
      while (at < chunk.length && reading !== 'done') {
        if (reading === 'payload') {
          at = takePayload(this, chunk, at);
          if (remaining === 0) reading = 'header';
          continue;
        }
        const part = chunk.subarray(at, at + wanted - heldBytes);
        held.push(part);
        heldBytes += part.length;
        at += part.length;
        if (heldBytes < wanted) break;
        const whole = held.length === 1 ? part : Buffer.concat(held, heldBytes);
        held = [];
        heldBytes = 0;
        if (reading === 'failure-message') {
          callback(new FramedBodyError(`The ${sender} failed while sending: ${whole.toString('utf8')}`));
          return;
        }
        const value = whole.readUInt32BE(0);
        if (reading === 'failure-length') {
          reading = 'failure-message';
          wanted = value;
          if (value === 0) {
            callback(new FramedBodyError(`The ${sender} failed while sending.`));
            return;
          }
        } else if (value === END) {
          // The body is whole: end it now, even though the connection may stay open (an upload's
          // sender waits on it for the answer).
          reading = 'done';
          emit(this);
          this.push(null);
        } else if (value === FAILED) {
          reading = 'failure-length';
        } else {
          reading = 'payload';
          remaining = value;
        }
      }
      callback();
    },
    flush(callback) {
      if (reading !== 'done') {
        callback(new FramedBodyError('The connection closed before the whole body arrived; try again.'));
        return;
      }
      emit(this);
      callback();
    },
  });
}
