// The streams a command talks through. main() passes the process's own; tests may pass others.
// stdout carries only results (uuids, file bytes, tables); notes and progress go to stderr.
import type { Readable, Writable } from 'node:stream';
import { terminalText } from './format/terminal-text.js';

export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

/**
 * Writes one line of results or notes. Formatters escape stored data field by field; this is the
 * backstop, so that no escape sequence reaches a terminal through a line nobody thought of.
 */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${terminalText(line, 'multiline')}\n`);
}
