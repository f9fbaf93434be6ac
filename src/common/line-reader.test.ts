import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_LINES_BYTES, readHeadLines, readTailLines } from './line-reader.js';

const dir = mkdtempSync(path.join(tmpdir(), 'line-reader-'));

describe('readHeadLines and readTailLines', () => {
  it('give the first and last N lines', async () => {
    const file = path.join(dir, 'lines.txt');
    writeFileSync(file, 'a\nb\nc\nd\n');
    expect((await readHeadLines(file, 2)).toString()).toBe('a\nb\n');
    expect((await readTailLines(file, 2)).toString()).toBe('c\nd\n');
    expect((await readHeadLines(file, 10)).toString()).toBe('a\nb\nc\nd\n');
  });

  it('read at most MAX_LINES_BYTES of a file without newlines', async () => {
    const file = path.join(dir, 'no-newlines.bin');
    writeFileSync(file, '');
    truncateSync(file, MAX_LINES_BYTES * 4);
    expect((await readHeadLines(file, 1)).length).toBe(MAX_LINES_BYTES);
    expect((await readTailLines(file, 1)).length).toBe(MAX_LINES_BYTES);
  });
});
