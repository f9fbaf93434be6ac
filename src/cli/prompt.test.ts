import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { isInteractive, promptLine, promptSecret } from './prompt.js';

function fakeTerminal(): { io: CliIo; shown: () => string; type: (text: string) => void } {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
  const stderr = new PassThrough();
  let shown = '';
  stderr.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  return {
    io: { stdin, stderr, stdout: new PassThrough() },
    shown: () => shown,
    type: (text) => setImmediate(() => stdin.write(text)),
  };
}

describe('terminal prompts', () => {
  it('echoes a line but not a secret, and handles backspace', async () => {
    const terminal = fakeTerminal();
    expect(isInteractive(terminal.io)).toBe(true);
    terminal.type('alicx\u007fe\r');
    expect(await promptLine(terminal.io, 'Username: ')).toBe('alice');
    terminal.type('s3cret\r');
    expect(await promptSecret(terminal.io, 'Password: ')).toBe('s3cret');
    expect(terminal.shown()).toContain('Username: alic');
    expect(terminal.shown()).not.toContain('s3cret');
  });

  it('aborts on Ctrl-C', async () => {
    const terminal = fakeTerminal();
    terminal.type('ab\u0003');
    await expect(promptSecret(terminal.io, 'Password: ')).rejects.toThrow(/cancelled/);
  });

  it('is not interactive without a terminal', () => {
    expect(isInteractive({ stdin: new PassThrough(), stderr: new PassThrough(), stdout: new PassThrough() })).toBe(false);
  });
});
