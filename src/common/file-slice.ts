// A byte range of an open file as a request body, sent through two reused buffers. A file read
// stream allocates a fresh buffer for every chunk; in a process with a real heap (the worker's)
// that external memory forced several full garbage collections per 100 MiB served, about half
// the CPU the worker spent on a large read of a running bundle (bench/live-reads.mjs).
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

/** Bytes [start, end) of `handle`; whoever sends it closes the handle. */
export interface FileSlice {
  handle: FileHandle;
  start: number;
  end: number;
}

const CHUNK_BYTES = 1024 * 1024;

export function isFileSlice(body: Readable | FileSlice): body is FileSlice {
  return 'handle' in body && 'start' in body && 'end' in body;
}

/**
 * Writes the slice into `out` (without ending it): a read fills one buffer while the other is
 * being written, and a buffer is reused only once its write has completed. Stops early when
 * `signal` aborts. Throws when the file ends before `end` or a write fails.
 */
export async function writeFileSlice(slice: FileSlice, out: Writable, signal: AbortSignal): Promise<void> {
  const size = Math.min(CHUNK_BYTES, Math.max(1, slice.end - slice.start));
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  const writing: Array<Promise<void> | undefined> = [undefined, undefined];
  let position = slice.start;
  for (let turn = 0; position < slice.end && !signal.aborted; turn = 1 - turn) {
    await writing[turn];
    const buffer = buffers[turn] as Buffer;
    const { bytesRead } = await slice.handle.read(buffer, 0, Math.min(buffer.length, slice.end - position), position);
    if (bytesRead === 0) throw new Error(`The file ended at byte ${position}, before the ${slice.end} promised.`);
    position += bytesRead;
    writing[turn] = completedWrite(out, buffer.subarray(0, bytesRead));
  }
  await Promise.all(writing);
}

function completedWrite(out: Writable, chunk: Buffer): Promise<void> {
  const done = new Promise<void>((resolve, reject) => out.write(chunk, (error) => (error ? reject(error) : resolve())));
  // Awaited later (before the buffer is reused); until then a failure must not count as unhandled.
  done.catch(() => undefined);
  return done;
}
