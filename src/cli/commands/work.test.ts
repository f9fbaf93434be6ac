import { describe, expect, it } from 'vitest';
import { LOCAL_INSTANCE } from '../state-store.js';
import { parseWorkTarget } from './work.js';

describe('parseWorkTarget', () => {
  it('splits an instance from a worksheet at the last ::', () => {
    expect(parseWorkTarget('http://127.0.0.1:2900::')).toEqual({ instance: 'http://127.0.0.1:2900', worksheet: undefined });
    expect(parseWorkTarget('http://host:80/::ws1')).toEqual({ instance: 'http://host', worksheet: 'ws1' });
    expect(parseWorkTarget('https://h.example/api/::')).toEqual({ instance: 'https://h.example/api', worksheet: undefined });
    expect(parseWorkTarget('http://[::1]:2900::')).toEqual({ instance: 'http://[::1]:2900', worksheet: undefined });
    expect(parseWorkTarget('ws1')).toEqual({ instance: undefined, worksheet: 'ws1' });
    expect(parseWorkTarget('local::')).toEqual({ instance: LOCAL_INSTANCE, worksheet: undefined });
  });

  it('refuses addresses that are not http(s) URLs', () => {
    expect(() => parseWorkTarget('nonsense::')).toThrow(/Invalid server address 'nonsense'/);
    expect(() => parseWorkTarget('ftp://x::')).toThrow(/only http/);
  });
});
