import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT_REPORT_SCRIPT, parseExitReport, StdoutTail } from './exit-report.js';

/** One frame of the engine's attach stream without a TTY: stdout (1), then the payload's length. */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('exit report', () => {
  it('is read from the last line only', () => {
    expect(parseExitReport('codalab-exit 3 0\n')).toEqual({ exitCode: 3, oomKills: 0 });
    expect(parseExitReport('noise\ncodalab-exit 0 2\n')).toEqual({ exitCode: 0, oomKills: 2 });
    expect(parseExitReport('codalab-exit 1 -\n')).toEqual({ exitCode: 1, oomKills: null });
    expect(parseExitReport('codalab-exit 0 0\nlater\n')).toBeNull();
    expect(parseExitReport('')).toBeNull();
  });

  it('keeps the end of a framed stdout, frames split over chunks', () => {
    const tail = new StdoutTail();
    const bytes = Buffer.concat([frame('x'.repeat(1000)), frame('\ncodalab-exit 42 0\n')]);
    for (let at = 0; at < bytes.length; at += 5) tail.push(bytes.subarray(at, at + 5));
    expect(parseExitReport(tail.text())).toEqual({ exitCode: 42, oomKills: 0 });
  });

  it('exits with the status of what ran before it, and says so', () => {
    const run = (status: number): { status: number | null; stdout: string } => {
      try {
        return { status: 0, stdout: execFileSync('/bin/bash', ['-c', `( exit ${status}\n); ${EXIT_REPORT_SCRIPT}`]).toString() };
      } catch (error) {
        const e = error as { status: number | null; stdout: Buffer };
        return { status: e.status, stdout: e.stdout.toString() };
      }
    };
    for (const status of [0, 1, 127]) {
      const r = run(status);
      expect(r.status).toBe(status);
      expect(parseExitReport(r.stdout)?.exitCode).toBe(status);
    }
  });
});
