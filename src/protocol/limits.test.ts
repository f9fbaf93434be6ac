import { describe, expect, it } from 'vitest';
import { charCount, commandViolation, dependencyPathViolation, metadataViolation, quoteShort, textViolation, utf8Length } from './limits.js';

describe('lengths', () => {
  it('counts characters as code points and bytes as UTF-8', () => {
    expect(charCount('a🙂é')).toBe(3);
    expect(utf8Length('a🙂é')).toBe(Buffer.byteLength('a🙂é'));
    expect(utf8Length('\ud800x')).toBe(Buffer.byteLength('\ud800x'));
  });

  it('quotes at most 40 characters of a value', () => {
    expect(quoteShort('short')).toBe("'short'");
    expect(quoteShort('x'.repeat(1000))).toBe(`'${'x'.repeat(37)}...'`);
    expect(quoteShort('🙂'.repeat(100))).toBe(`'${'🙂'.repeat(37)}...'`);
  });
});

describe('checks', () => {
  it('names the field, the actual length and the limit', () => {
    expect(textViolation('Description', 'd'.repeat(9), 8)).toBe('Description is 9 characters long; the limit is 8 characters.');
    expect(textViolation('Description', '🙂'.repeat(8), 8)).toBeNull();
    expect(commandViolation('x'.repeat(65_536))).toBeNull();
    expect(commandViolation('é'.repeat(32_769))).toMatch(/^Command is 65538 bytes long \(UTF-8\); the limit is 65536 bytes/);
  });

  it('bounds metadata keys, names, texts and lists', () => {
    expect(metadataViolation({ name: 'n'.repeat(255), description: 'd'.repeat(8192), tags: ['t'] })).toBeNull();
    expect(metadataViolation({ name: 'n'.repeat(256) })?.message).toMatch(/^Bundle name is 256 characters/);
    expect(metadataViolation({ tags: Array.from({ length: 101 }, () => 't') })).toEqual({ key: 'tags', message: 'Too many tags: 101; the limit is 100.' });
    expect(metadataViolation({ exclude_patterns: ['*', 'p'.repeat(256)] })?.message).toMatch(/^Item 2 of 'exclude_patterns' is 256 characters/);
    expect(metadataViolation({ '': 'v' })?.message).toMatch(/may not be empty/);
    expect(metadataViolation({ n: 1, b: true, z: null })).toBeNull();
  });

  it("keeps dependency paths inside their bundles", () => {
    expect(dependencyPathViolation({ child_path: 'in', parent_path: 'a/b.txt' })).toBeNull();
    expect(dependencyPathViolation({ child_path: '', parent_path: '' })).toBeNull();
    expect(dependencyPathViolation({ child_path: 'in', parent_path: 'a/../b' })).toMatch(/'\.\.' is not allowed/);
    expect(dependencyPathViolation({ child_path: 'in', parent_path: '/etc' })).toMatch(/absolute paths are not allowed/);
    expect(dependencyPathViolation({ child_path: 'in', parent_path: 'a\nb' })).toMatch(/control characters/);
    expect(dependencyPathViolation({ child_path: 'k'.repeat(256), parent_path: '' })).toMatch(/is 256 characters long; the limit is 255/);
  });
});
