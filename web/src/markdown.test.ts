import { describe, expect, it } from 'vitest';
import { isSafeHref, parseBlocks } from './markdown.js';

describe('worksheet markdown', () => {
  it('splits headings, paragraphs, lists and fenced code in order', () => {
    const blocks = parseBlocks('# Title\nsome\ntext\n\n- a\n- b\n1. one\n```\n<b>x</b>\n```\nend');
    expect(blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Title' },
      { kind: 'paragraph', text: 'some text' },
      { kind: 'list', ordered: false, items: ['a', 'b'] },
      { kind: 'list', ordered: true, items: ['one'] },
      { kind: 'code', text: '<b>x</b>' },
      { kind: 'paragraph', text: 'end' },
    ]);
  });

  it('keeps http, mailto and relative links and drops script schemes', () => {
    expect(isSafeHref('https://example.org')).toBe(true);
    expect(isSafeHref('mailto:a@b.c')).toBe(true);
    expect(isSafeHref('/worksheets/x')).toBe(true);
    expect(isSafeHref('javascript:alert(1)')).toBe(false);
    expect(isSafeHref('JavaScript:alert(1)')).toBe(false);
    expect(isSafeHref('data:text/html,x')).toBe(false);
  });
});
