import { describe, expect, it } from 'vitest';
import { expandSpecRange, expandSpecRanges } from './spec-ranges.js';

describe('expandSpecRange', () => {
  it('expands ascending, descending, named and qualified ranges', () => {
    expect(expandSpecRange('^1-3')).toEqual(['^1', '^2', '^3']);
    expect(expandSpecRange('^3-1')).toEqual(['^3', '^2', '^1']);
    expect(expandSpecRange('foo^2-3')).toEqual(['foo^2', 'foo^3']);
    expect(expandSpecRange('ws//^1-2/out')).toEqual(['ws//^1/out', 'ws//^2/out']);
  });
  it('leaves other specs alone and refuses index 0', () => {
    expect(expandSpecRanges(['foo', '^2', '0x12'])).toEqual(['foo', '^2', '0x12']);
    expect(() => expandSpecRange('^0-2')).toThrow(/start at 1/);
  });
});
