// packTreeWithinBudget on real files in a temp dir, read back with tar-stream: which entries are
// there, in which order, with which bytes, and that the whole stream stays within its budget.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import * as tarStream from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TarBudgetReport } from './tar-budget.js';
import { packTreeWithinBudget, type TreeTarBudget } from './tree-tar.js';

const K = 1024;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tree-tar-budget-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(relative: string, bytes: number, fill = 7): void {
  mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
  writeFileSync(path.join(dir, relative), Buffer.alloc(bytes, fill));
}

interface Packed {
  /** Entry names in stream order, with their bytes. */
  entries: Array<{ name: string; bytes: Buffer }>;
  streamBytes: number;
  tail: Buffer;
  report: TarBudgetReport;
}

/** Packs `dir` within `budget`, parsing the stream back entry by entry as it is written. */
async function pack(budget: TreeTarBudget): Promise<Packed> {
  const { stream, report } = packTreeWithinBudget(dir, budget);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const whole = Buffer.concat(chunks);
  const extract = tarStream.extract();
  extract.end(whole);
  const entries: Packed['entries'] = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    entries.push({ name: entry.header.name, bytes: Buffer.concat(parts) });
  }
  return { entries, streamBytes: whole.length, tail: whole.subarray(whole.length - 2 * 512), report };
}

const names = (packed: Packed): string[] => packed.entries.map((e) => e.name);

describe('packTreeWithinBudget', () => {
  it('writes stdout and stderr first, leaves out a file too big for what is left, and fills in smaller ones', async () => {
    write('a-big', 200 * K);
    write('b-small', 2 * K);
    write('sub/c', 1 * K);
    write('stdout', 10 * K, 1);
    write('stderr', 1 * K, 2);
    const packed = await pack({ maxBytes: 64 * K, first: ['stdout', 'stderr'] });
    expect(names(packed)).toEqual(['./', './stdout', './stderr', './b-small', './sub/', './sub/c']);
    expect(packed.entries[1]?.bytes).toEqual(Buffer.alloc(10 * K, 1));
    expect(packed.report).toEqual({ keptBytes: 14 * K, droppedFiles: 1, droppedBytes: 200 * K, cut: [] });
    expect(packed.streamBytes).toBeLessThanOrEqual(64 * K);
    expect(packed.tail).toEqual(Buffer.alloc(1024));
  });

  it('keeps every file whole when all fit, counting headers and padding against the budget', async () => {
    write('stdout', 100);
    write('x', 700);
    // root + stdout (header, 512) + x (header, 1024) + end-of-archive = 512 + 1024 + 1536 + 1024.
    const exact = await pack({ maxBytes: 4096, first: ['stdout', 'stderr'] });
    expect(names(exact)).toEqual(['./', './stdout', './x']);
    expect(exact.streamBytes).toBe(4096);
    const short = await pack({ maxBytes: 4095, first: ['stdout', 'stderr'] });
    expect(names(short)).toEqual(['./', './stdout']);
    expect(short.report).toMatchObject({ droppedFiles: 1, droppedBytes: 700 });
  });

  it('cuts a huge stdout to its head, leaving stderr a fair share, and records both cuts', async () => {
    const stdout = Buffer.from(Array.from({ length: 100 * K }, (_, i) => i % 251));
    writeFileSync(path.join(dir, 'stdout'), stdout);
    write('stderr', 40 * K, 3);
    write('other', 1 * K);
    const packed = await pack({ maxBytes: 64 * K, first: ['stdout', 'stderr'] });
    expect(names(packed)).toEqual(['./', './stdout', './stderr']);
    const [, out, err] = packed.entries;
    expect(out?.bytes).toEqual(stdout.subarray(0, out?.bytes.length));
    expect(out?.bytes.length).toBeGreaterThan(30 * K);
    expect(err?.bytes.length).toBeGreaterThan(30 * K);
    expect(err?.bytes).toEqual(Buffer.alloc(err?.bytes.length ?? 0, 3));
    expect(packed.report.cut).toEqual([
      { name: 'stdout', keptBytes: out?.bytes.length },
      { name: 'stderr', keptBytes: err?.bytes.length },
    ]);
    expect(packed.report.droppedFiles).toBe(3);
    expect(packed.report.droppedBytes).toBe(141 * K - (out?.bytes.length ?? 0) - (err?.bytes.length ?? 0));
    expect(packed.streamBytes).toBeLessThanOrEqual(64 * K);
  });

  it('leaves out a directory whose header does not fit, counting the files below it', async () => {
    write('stdout', 0);
    write('d/x', 300);
    write('d/e/y', 5);
    // Room for the root, stdout's header and the end of the archive only.
    const packed = await pack({ maxBytes: 2048, first: ['stdout', 'stderr'] });
    expect(names(packed)).toEqual(['./', './stdout']);
    expect(packed.report).toEqual({ keptBytes: 0, droppedFiles: 2, droppedBytes: 305, cut: [] });
    expect(packed.streamBytes).toBe(2048);
  });

  it('writes an archive that tar extracts strictly', async () => {
    write('stdout', 3000, 1);
    write('big', 50 * K);
    write('keep/me', 10);
    const out = mkdtempSync(path.join(tmpdir(), 'tree-tar-budget-out-'));
    try {
      await pipeline(packTreeWithinBudget(dir, { maxBytes: 16 * K, first: ['stdout'] }).stream, tar.x({ cwd: out, strict: true }));
      expect(readFileSync(path.join(out, 'stdout'))).toEqual(Buffer.alloc(3000, 1));
      expect(readFileSync(path.join(out, 'keep', 'me'), 'utf8')).toBe('\u0007'.repeat(10));
      expect(() => readFileSync(path.join(out, 'big'))).toThrow();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
