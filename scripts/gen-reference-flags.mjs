#!/usr/bin/env node
// Extracts every command and flag that CodaLab's behavioural reference lists (shared/reference/
// codalab-cli.md §3-4, codalab-worker.md's flag table) and the example command lines of the seed
// into test/conformance/codalab-reference.json, which test/conformance/cli-flags.test.ts checks
// our `cl` and `cl-worker` against. The reference is prose, so the extraction is a few plain rules
// (below); the fixture is checked in so that a change of the reference shows up as a reviewable
// diff, and the test can say whether the fixture is stale.
//
// Usage: node scripts/gen-reference-flags.mjs [SHARED_DIR]   (default: ../shared beside the
// repository, as CI lays it out) [--check: exit 1 when the fixture differs, write nothing]
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE = path.join(ROOT, 'test', 'conformance', 'codalab-reference.json');

/**
 * A flag group as written in the reference: `-c/--contents`, `--freeze|--unfreeze`, `-W/-t/-v`;
 * not preceded by a word character (`src-orig`, `Y-<old>`), and not a pattern (`--request-*`).
 */
const FLAG_GROUP = /(?<![\w-])--?[A-Za-z][A-Za-z0-9_-]*(?:[/|]--?[A-Za-z][A-Za-z0-9_-]*)*(?![\w*-])/g;
/** A code span that names a command: `cl run ...`, `work (w) [-u]`, `wls (wsearch, ws)`. */
const COMMAND_SPAN = /^(?:cl )?([a-z][a-z-]*[a-z])(?: \(([a-z, ]+)\))?(?: |$)/;

/** Splits `-c/--contents` into one flag with two spellings, `-W/-t/-v` into three flags. */
function splitGroup(group) {
  const parts = group.split(/[/|]/);
  const shorts = parts.filter((p) => !p.startsWith('--'));
  const longs = parts.filter((p) => p.startsWith('--'));
  if (group.includes('/') && shorts.length === 1 && longs.length === 1) return [[shorts[0], longs[0]]];
  return parts.map((p) => [p]);
}

function flagsIn(text) {
  return [...text.matchAll(FLAG_GROUP)].flatMap((m) => splitGroup(m[0]));
}

function codeSpans(text) {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

function section(text, startHeading, endHeading) {
  const start = text.indexOf(startHeading);
  const end = text.indexOf(endHeading, start + 1);
  if (start < 0 || end < 0) throw new Error(`reference: cannot find the section ${startHeading}`);
  return text.slice(start, end);
}

class CommandTable {
  commands = new Map();

  add(name, aliases, flags) {
    const entry = this.commands.get(name) ?? { aliases: [], flags: [] };
    for (const alias of aliases) if (!entry.aliases.includes(alias)) entry.aliases.push(alias);
    for (const flag of flags) {
      const known = entry.flags.find((f) => f.some((spelling) => flag.includes(spelling)));
      if (!known) entry.flags.push(flag);
      else for (const spelling of flag) if (!known.includes(spelling)) known.push(spelling);
    }
    this.commands.set(name, entry);
  }

  toJSON() {
    const out = {};
    for (const name of [...this.commands.keys()].sort()) {
      const { aliases, flags } = this.commands.get(name);
      out[name] = { aliases, flags: flags.map((f) => [...f].sort((a, b) => a.length - b.length)) };
    }
    return out;
  }
}

/** `### upload (up): ...`: the heading names the command(s); every code span below adds flags. */
function readHeadingSection(table, heading, body) {
  const names = [...heading.matchAll(/\b([a-z]+)\b(?: \(([a-z, ]+)\))?/g)].filter((m) => m[1] !== 'and');
  const flags = codeSpans(body).flatMap((span) => (span.startsWith('cl -') ? [] : flagsIn(span)));
  for (const m of names) table.add(m[1], m[2] ? m[2].split(/, */) : [], flags);
}

/**
 * Bullet sections: a code span that starts with a command word opens that command. The
 * `cl-worker` bullet is one program's flag list throughout (its spans include `codalab-...` values).
 */
function readSpanSection(table, body) {
  let current = null;
  for (const bullet of body.split(/\n- /).slice(1)) {
    current = null;
    for (const span of codeSpans(bullet)) {
      const m = current === 'cl-worker' ? null : COMMAND_SPAN.exec(span);
      if (m) {
        current = m[1];
        table.add(current, m[2] ? m[2].split(/, */) : [], flagsIn(span.slice(m[0].length)));
      } else if (current) {
        table.add(current, [], flagsIn(span));
      }
    }
  }
}

export function readCliReference(text) {
  const table = new CommandTable();
  const commands = section(text, '## 3. `cl` commands', '## 4. ');
  // General paragraph: `cl -v` prints the version.
  table.add('', [], flagsIn(codeSpans(commands.split('\n### ')[0]).filter((s) => s.startsWith('cl -')).join(' ')));
  for (const part of commands.split('\n### ').slice(1)) {
    const newline = part.indexOf('\n');
    const heading = part.slice(0, newline);
    const body = part.slice(newline);
    if (/^(Other bundle commands|Workers and server commands|Session, identity and misc)/.test(heading)) {
      readSpanSection(table, body);
    } else {
      readHeadingSection(table, heading.replace(/:.*$/, ''), body);
    }
  }
  // §4: the run-option table's CLI flags belong to `cl run` ("every --request-* flag in §4").
  const options = section(text, '## 4. ', '## 5. ');
  for (const row of options.split('\n').filter((l) => l.startsWith('| `'))) {
    const cell = row.split('|')[2] ?? '';
    table.add('run', [], flagsIn(codeSpans(cell).join(' ')));
  }
  const json = table.toJSON();
  const worker = json['cl-worker'];
  delete json['cl-worker'];
  return { cl: json, workerFromCli: worker ? worker.flags : [] };
}

/** The worker reference's flag table: rows whose first cell is a flag (or several). */
export function readWorkerReference(text) {
  const flags = [];
  for (const row of text.split('\n').filter((l) => /^\| `--/.test(l))) {
    for (const flag of flagsIn(codeSpans(row.split('|')[1] ?? '').join(' '))) flags.push(flag);
  }
  return flags;
}

/** Minimal shell word splitting: single and double quotes, `#` comments. */
function shellWords(line) {
  const words = [];
  let word = null;
  let quote = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Indented `cl ...` and `cl-worker ...` example lines of the seed; `<command>` becomes `date`. */
export function readSeedCommands(text) {
  return text
    .split('\n')
    .filter((line) => /^\s{4,}(cl|cl-worker) /.test(line))
    .map((line) => shellWords(line.trim().replace(/<command>/g, 'date')));
}

function uniqueFlags(lists) {
  const out = [];
  for (const flag of lists) {
    const known = out.find((f) => f.some((s) => flag.includes(s)));
    if (!known) out.push([...flag]);
    else for (const s of flag) if (!known.includes(s)) known.push(s);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

export function buildFixture(sharedDir) {
  const read = (rel) => readFileSync(path.join(sharedDir, rel), 'utf8');
  const seedFiles = readdirSync(path.join(sharedDir, 'seeds')).filter((f) => f.endsWith('.txt')).sort();
  const { cl, workerFromCli } = readCliReference(read('reference/codalab-cli.md'));
  const worker = uniqueFlags([...readWorkerReference(read('reference/codalab-worker.md')), ...workerFromCli]);
  const seedCommands = seedFiles.flatMap((f) => readSeedCommands(read(path.join('seeds', f))));
  return {
    generatedBy: 'node scripts/gen-reference-flags.mjs',
    sources: ['reference/codalab-cli.md', 'reference/codalab-worker.md', ...seedFiles.map((f) => `seeds/${f}`)],
    cl,
    'cl-worker': worker,
    seedCommands,
  };
}

export function fixtureText(sharedDir) {
  return `${JSON.stringify(buildFixture(sharedDir), null, 1)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const sharedDir = path.resolve(args.find((a) => a !== '--check') ?? path.join(ROOT, '..', 'shared'));
  const text = fixtureText(sharedDir);
  if (check) {
    const current = readFileSync(FIXTURE, 'utf8');
    if (current !== text) {
      console.error(`${path.relative(ROOT, FIXTURE)} is stale; run: node scripts/gen-reference-flags.mjs ${sharedDir}`);
      process.exit(1);
    }
  } else {
    writeFileSync(FIXTURE, text);
    console.error(`wrote ${path.relative(ROOT, FIXTURE)} from ${sharedDir}`);
  }
}
