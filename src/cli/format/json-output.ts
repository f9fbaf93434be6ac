// `--json` output of listing commands: one JSON document on stdout, pretty-printed, newline-ended.
// The shapes are the API's (protocol/*.ts) and are documented in each command's help.
import type { Writable } from 'node:stream';
import { terminalJson } from './terminal-text.js';

export function writeJson(stream: Writable, value: unknown): void {
  stream.write(`${terminalJson(value)}\n`);
}
