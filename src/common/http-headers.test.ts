import { describe, expect, it } from 'vitest';
import { endToEndHeaders, groupHeaders } from './http-headers.js';

describe('proxy header rules', () => {
  it('keeps end-to-end headers in order and drops hop-by-hop ones and those asked for', () => {
    const raw = ['Host', 'h', 'Connection', 'close', 'X-A', '1', 'Transfer-Encoding', 'chunked', 'Authorization', 'Bearer t', 'X-A', '2'];
    expect(endToEndHeaders(raw, new Set(['authorization']))).toEqual([
      ['Host', 'h'],
      ['X-A', '1'],
      ['X-A', '2'],
    ]);
  });

  it('groups repeated names case-insensitively', () => {
    expect(groupHeaders([['Set-Cookie', 'a'], ['set-cookie', 'b'], ['X', 'y']])).toEqual({ 'set-cookie': ['a', 'b'], x: ['y'] });
  });
});
