// Framed bodies (the raw half of a download taken over with HTTP Upgrade): whatever way the bytes
// are cut on the wire, the decoder gives back exactly the body, in large chunks; a failure the
// sender reports, or a connection cut before the end frame, is an error and never a short body.
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { decodeFrames, FramedBodyError, sendFramed } from './frames.js';

/** The framed bytes `sendFramed` writes for these chunks (or for a source that fails, or just closes, after them). */
async function framedBytes(chunks: Buffer[], failWith?: string | 'closed'): Promise<Buffer> {
  const source = new Readable({ read() {} });
  for (const chunk of chunks) source.push(chunk);
  if (failWith === undefined) source.push(null);
  else setImmediate(() => source.destroy(failWith === 'closed' ? undefined : new Error(failWith)));
  const wire = new PassThrough();
  const parts: Buffer[] = [];
  wire.on('data', (part: Buffer) => parts.push(part));
  const ended = new Promise((resolve) => wire.once('end', resolve));
  await sendFramed(source, wire);
  await ended;
  return Buffer.concat(parts);
}

/** Feeds `wire` to a decoder in pieces of `cut` bytes; returns the chunks it gives. */
async function decode(wire: Buffer, cut: number, target?: number): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < wire.length; at += cut) pieces.push(wire.subarray(at, at + cut));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), decodeFrames(target === undefined ? {} : { target }), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) out.push(Buffer.from(chunk));
  });
  return out;
}

describe('framed bodies', () => {
  const body = [randomBytes(3), randomBytes(70_000), randomBytes(1), randomBytes(300_000), randomBytes(5000)];
  const whole = Buffer.concat(body);

  it.each([1, 3, 4, 5, 4096, 65_536, 1 << 20])('gives back the exact body whatever the wire cuts it into (%i-byte reads)', async (cut) => {
    const wire = await framedBytes(body);
    const out = await decode(wire, cut, 64 * 1024);
    expect(Buffer.concat(out).equals(whole)).toBe(true);
    // Every chunk but the last holds at least the target: few large writes downstream.
    for (const chunk of out.slice(0, -1)) expect(chunk.length).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('gives back an empty body', async () => {
    expect(Buffer.concat(await decode(await framedBytes([]), 7))).toHaveLength(0);
  });

  it("fails with the sender's message when the source failed part-way", async () => {
    const wire = await framedBytes([randomBytes(10_000)], 'disk read error on part-3.bin');
    await expect(decode(wire, 1000)).rejects.toThrow(new FramedBodyError('The server failed while sending: disk read error on part-3.bin'));
  });

  it('sends a failure when the source closes without ending (a relayed sender that went away)', async () => {
    const wire = await framedBytes([randomBytes(10_000)], 'closed');
    await expect(decode(wire, 1000)).rejects.toThrow(new FramedBodyError('The server failed while sending: the data stopped before its end'));
  });

  it.each([0, 1, 3, 4, 500, 10_003])('fails when the connection ends before the end frame (cut %i bytes short of it)', async (short) => {
    const wire = await framedBytes([randomBytes(10_000)]);
    const cut = wire.subarray(0, wire.length - 4 - short);
    await expect(decode(cut, 512)).rejects.toThrow(/closed before the whole body arrived/);
  });

  it('stops reading a source whose receiver went away', async () => {
    let reads = 0;
    const source = new Readable({
      read() {
        reads += 1;
        this.push(randomBytes(64 * 1024));
      },
    });
    const wire = new PassThrough({ highWaterMark: 1024 });
    setTimeout(() => wire.destroy(), 20);
    await sendFramed(source, wire);
    expect(source.destroyed).toBe(true);
    const seen = reads;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads).toBe(seen);
  });
});
