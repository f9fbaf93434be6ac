import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/common/output-frames.js';
import { BrowserFrameDecoder } from './follow-output.js';

describe('output frames in the browser', () => {
  it('decodes what the server encodes, across arbitrary chunk boundaries', () => {
    const bytes = Buffer.concat([encodeFrame('stdout', Buffer.from('line-1\n')), encodeFrame('keepalive'), encodeFrame('stderr', Buffer.from('oops')), encodeFrame('stdout', Buffer.from('é\n'))]);
    const decoder = new BrowserFrameDecoder();
    const frames = [];
    for (let at = 0; at < bytes.length; at += 3) frames.push(...decoder.push(new Uint8Array(bytes.subarray(at, at + 3))));
    expect(frames.map((f) => [f.stream, new TextDecoder().decode(f.data)])).toEqual([
      ['stdout', 'line-1\n'],
      ['stderr', 'oops'],
      ['stdout', 'é\n'],
    ]);
  });

  it('refuses an unknown frame type', () => {
    const bad = encodeFrame('stdout', Buffer.from('x'));
    bad[0] = 9;
    expect(() => new BrowserFrameDecoder().push(new Uint8Array(bad))).toThrow('unknown frame type 9');
  });
});
