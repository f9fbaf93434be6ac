import { describe, expect, it } from 'vitest';
import { terminalJson, terminalText } from './terminal-text.js';

describe('terminalText', () => {
  it('escapes C0, DEL and C1 controls in one line, and turns line breaks and tabs into a space', () => {
    expect(terminalText('a\x1b[2Jb\x07c\x7fd\u009be\u0000')).toBe('a\\x1b[2Jb\\x07c\\x7fd\\u009be\\x00');
    expect(terminalText('one\r\ntwo\tthree')).toBe('one two three');
  });

  it('keeps newlines and tabs of multi-line text, and escapes a lone carriage return', () => {
    expect(terminalText('a\r\nb\tc\rd\x1b', 'multiline')).toBe('a\nb\tc\\x0dd\\x1b');
  });

  it('leaves printable text, backslashes and non-Latin characters alone', () => {
    expect(terminalText('naïve \\x1b 日本 🙂')).toBe('naïve \\x1b 日本 🙂');
  });
});

describe('terminalJson', () => {
  it('escapes DEL and C1 characters, which JSON.stringify leaves raw, and stays exact JSON', () => {
    const value = { text: 'a\u009b31m\x7f\x1b' };
    const json = terminalJson(value);
    expect([...json].some((char) => char.charCodeAt(0) === 0x1b || (char.charCodeAt(0) >= 0x7f && char.charCodeAt(0) <= 0x9f))).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
  });
});
