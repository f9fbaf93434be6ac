import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, formatSize, parseDuration, parseSize } from './sizes.js';

describe('parseSize', () => {
  it.each([
    ['123', 123],
    ['10k', 10240],
    ['1.5g', 1610612736],
    ['2t', 2 * 1024 ** 4],
    ['512M', 512 * 1024 ** 2],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'abc', '10kb', '-1', '1x', '2 g'])('rejects %j with a message naming it', (text) => {
    expect(() => parseSize(text)).toThrow(/Invalid size/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1.5h', 5400],
    ['2d', 172800],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'soon', '5min', '-3s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/Invalid duration/);
  });
});

describe('formatting', () => {
  it('prints sizes the way CodaLab does', () => {
    expect(formatSize(2 * 1024 ** 3)).toBe('2g');
    expect(formatSize(1.5 * 1024 ** 3)).toBe('1.5g');
    expect(formatSize(512)).toBe('512');
    expect(formatSize(3277)).toBe('3.2k');
  });

  it('prints durations compactly', () => {
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(303)).toBe('5m3s');
    expect(formatDuration(9960)).toBe('2h46m');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3d4h');
  });

  it('prints ages in whole units of the largest that fits', () => {
    expect(formatAge(45.9)).toBe('45s');
    expect(formatAge(200)).toBe('3m');
    expect(formatAge(2 * 3600 + 59 * 60)).toBe('2h');
    expect(formatAge(4 * 86400 + 5)).toBe('4d');
  });
});
