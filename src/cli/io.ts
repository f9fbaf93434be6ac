// The streams a command talks through. main() passes the process's own; tests may pass others.
// stdout carries only results (uuids, file bytes, tables); notes and progress go to stderr.
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
