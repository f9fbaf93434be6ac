import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { trackProgress } from './progress.js';

function ioWith(isTTY: boolean): { io: CliIo; stderr: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { io: { stdout: new PassThrough(), stderr, stdin: new PassThrough() }, stderr: () => text };
}

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

const big = (): Readable => Readable.from(Array.from({ length: 80 }, () => Buffer.alloc(64 * 1024)));

describe('trackProgress', () => {
  it('passes every byte through and draws a bar on a terminal', async () => {
    const { io, stderr } = ioWith(true);
    const tracked = trackProgress(io, big(), 80 * 64 * 1024, 'Uploading');
    expect(await drain(tracked.stream)).toBe(80 * 64 * 1024);
    tracked.done();
    expect(stderr()).toContain('Uploading');
  });

  it('stays silent when stderr is not a terminal or the transfer is small', async () => {
    const pipe = ioWith(false);
    const source = big();
    const tracked = trackProgress(pipe.io, source, 80 * 64 * 1024, 'Uploading');
    expect(tracked.stream).toBe(source);
    await drain(tracked.stream);
    const small = ioWith(true);
    const tiny = Readable.from([Buffer.from('x')]);
    expect(trackProgress(small.io, tiny, 1, 'Uploading').stream).toBe(tiny);
    expect(pipe.stderr() + small.stderr()).toBe('');
  });
});
