// Flags of `cl-server copy-database`: an SQLite source, a PostgreSQL target, one line otherwise.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCopyDatabaseArgs } from './copy-database-command.js';

const parse = (argv: string[]): ReturnType<typeof parseCopyDatabaseArgs> => parseCopyDatabaseArgs(argv, () => {});

describe('cl-server copy-database flags', () => {
  it('takes sqlite:PATH or a path, and a postgres URL', () => {
    expect(parse(['--from', 'sqlite:/data/db.sqlite', '--to', 'postgres://u@h/codalab'])).toEqual({ from: '/data/db.sqlite', to: 'postgres://u@h/codalab' });
    expect(parse(['--from', 'db.sqlite', '--to', 'postgresql://u:pw@h:5433/c'])).toEqual({ from: resolve('db.sqlite'), to: 'postgresql://u:pw@h:5433/c' });
  });

  it('prints its help', () => {
    let help = '';
    expect(parseCopyDatabaseArgs(['--help'], (text) => (help += text))).toBeNull();
    expect(help).toContain('--from <url>');
  });

  it.each([
    [['--to', 'postgres://u@h/c'], "required option '--from <url>' not specified (see cl-server copy-database --help)."],
    [['--from', 'postgres://u:pw@h/c', '--to', 'postgres://u@h/c'], "--from must name an SQLite database (sqlite:PATH or a file path), not 'postgres://u:***@h/c'."],
    [['--from', 'a.sqlite', '--to', 'b.sqlite'], "--to must be a postgres:// or postgresql:// URL, not 'b.sqlite'."],
    [['--from', 'a.sqlite', '--to', 'postgres://h'], /^Invalid --database-url 'postgres:\/\/h'/],
  ])('refuses %j with one line', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });
});
