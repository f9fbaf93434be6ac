// Questions asked on the terminal: a visible line (user name) and a hidden one (password).
// Prompts go to stderr so stdout stays clean for scripts; callers check `isInteractive` first.
import type { CliIo } from './io.js';

export function isInteractive(io: CliIo): boolean {
  return io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
}

export async function promptLine(io: CliIo, question: string): Promise<string> {
  return readTerminal(io, question, true);
}

export async function promptSecret(io: CliIo, question: string): Promise<string> {
  return readTerminal(io, question, false);
}

/** Reads one line in raw mode, echoing it only when `echo` is set; Ctrl-C aborts. */
function readTerminal(io: CliIo, question: string, echo: boolean): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new Error('Login cancelled.'));
        if (char === '\u007f' || char === '\b') {
          if (text.length > 0 && echo) stderr.write('\b \b');
          text = text.slice(0, -1);
        } else {
          text += char;
          if (echo) stderr.write(char);
        }
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
