import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from './output-frames.js';

describe('output frames', () => {
  it('round-trips stdout and stderr chunks split at any byte', () => {
    const bytes = Buffer.concat([
      encodeFrame('stdout', Buffer.from('hello\n')),
      encodeFrame('keepalive'),
      encodeFrame('stderr', Buffer.from([0, 255, 10])),
      encodeFrame('stdout', Buffer.alloc(0)),
    ]);
    for (let split = 0; split <= bytes.length; split += 1) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(bytes.subarray(0, split)), ...decoder.push(bytes.subarray(split))];
      expect(frames.map((f) => [f.stream, f.data.toString('hex')])).toEqual([
        ['stdout', Buffer.from('hello\n').toString('hex')],
        ['stderr', '00ff0a'],
        ['stdout', ''],
      ]);
      expect(decoder.isClean).toBe(true);
    }
  });
});
