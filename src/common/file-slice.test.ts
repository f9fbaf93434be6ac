// writeFileSlice against real files: exact bytes of the range, buffers never reused before their
// write completed, and clear failures when the file is shorter than promised.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeFileSlice } from './file-slice.js';

const dir = mkdtempSync(path.join(tmpdir(), 'file-slice-'));
const data = randomBytes(3.5 * 1024 * 1024);
const file = path.join(dir, 'data.bin');
writeFileSync(file, data);

/** A writable that completes each write a moment later and only then looks at the bytes, as a busy socket does. */
function slowSink(): { sink: Writable; received: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        parts.push(Buffer.from(chunk));
        callback();
      }, 2);
    },
  });
  return { sink, received: () => Buffer.concat(parts) };
}

describe('writeFileSlice', () => {
  it('writes exactly the range, even when each write completes late', async () => {
    const handle = await open(file);
    try {
      const { sink, received } = slowSink();
      await writeFileSlice({ handle, start: 1000, end: data.length - 7 }, sink, new AbortController().signal);
      expect(received().equals(data.subarray(1000, data.length - 7))).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it('fails, naming the byte, when the file ends before the promised end', async () => {
    const handle = await open(file);
    try {
      const { sink } = slowSink();
      await expect(writeFileSlice({ handle, start: 0, end: data.length + 10 }, sink, new AbortController().signal)).rejects.toThrow(
        `The file ended at byte ${data.length}`,
      );
    } finally {
      await handle.close();
    }
  });

  it('stops reading once its signal aborts', async () => {
    const handle = await open(file);
    try {
      const { sink, received } = slowSink();
      const stop = new AbortController();
      const writing = writeFileSlice({ handle, start: 0, end: data.length }, sink, stop.signal);
      stop.abort();
      await writing;
      expect(received().length).toBeLessThan(data.length);
    } finally {
      await handle.close();
    }
  });
});
