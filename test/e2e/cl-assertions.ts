// What every `cl` failure must look like to a user (DESIGN.md §3): exit status 1, nothing on
// stdout, and one line on stderr starting `cl: ` that names the problem.
import { expect } from 'vitest';
import type { ClResult } from './harness.js';

export function expectOneLineError(result: ClResult, pattern: RegExp, options: { maxLength?: number } = {}): void {
  const shown = result.stderr.slice(0, 500);
  expect(result.code, shown).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, shown).toHaveLength(1);
  expect(lines[0]).toMatch(/^cl: /);
  expect(lines[0]).toMatch(pattern);
  if (options.maxLength !== undefined) expect(lines[0]?.length ?? 0).toBeLessThan(options.maxLength);
}
