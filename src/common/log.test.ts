import { describe, expect, it } from 'vitest';
import { UsageError } from './usage-error.js';
import { createLogger, parseLogFormat, silentLogger, type LogFormat, type Logger } from './log.js';
import { renderTextLine } from './log-text.js';
import { createRecordingLogger } from './recording-logger.js';

function capture(format: LogFormat, verbose = false): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ program: 'cl-worker', verbose, format, write: (line) => lines.push(line) }), lines };
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('the text renderer', () => {
  it('writes time, program, level, message, then the other fields as key=value', () => {
    const line = renderTextLine({ level: 'info', time: '2026-12-01T10:00:00.000Z', program: 'cl-worker', worker: 'w1', run: '0xab', msg: 'Accepted run' });
    expect(line).toBe('2026-12-01T10:00:00.000Z cl-worker info Accepted run worker=w1 run=0xab\n');
  });

  it('quotes values that would not read back, and keeps the line to one line', () => {
    const line = renderTextLine({ time: 't', program: 'p', level: 'warn', msg: 'first\n  second\n', note: 'two words', eq: 'a=b', empty: '', n: 3, ok: false, none: null });
    expect(line).toBe('t p warn first | second note="two words" eq="a=b" empty="" n=3 ok=false none=null\n');
  });
});

describe('a logger in text format', () => {
  it('prints the scope of a child after the message, merged with its parent and the call fields', () => {
    const { log, lines } = capture('text');
    log.child({ worker: 'w1' }).child({ run: '0xab', assignment: 'a1' }).info('Kill requested', { container: 'c0ffee' });
    expect(lines).toHaveLength(1);
    const [time, rest] = [lines[0]?.split(' ')[0] ?? '', lines[0]?.slice(lines[0].indexOf(' ') + 1)];
    expect(time).toMatch(TIME);
    expect(rest).toBe('cl-worker info Kill requested worker=w1 run=0xab assignment=a1 container=c0ffee\n');
  });

  it('leaves the parent unscoped, and a later scope replaces an earlier value', () => {
    const { log, lines } = capture('text');
    const run = log.child({ run: '0x1' });
    run.child({ run: '0x2' }).info('moved');
    log.info('plain');
    expect(lines[0]).toMatch(/ moved run=0x2\n$/);
    expect(lines[1]).toMatch(/ cl-worker info plain\n$/);
  });

  it('takes a percent sign in a message literally', () => {
    const { log, lines } = capture('text');
    log.info('50% done, %s stays');
    expect(lines[0]).toMatch(/ info 50% done, %s stays\n$/);
  });
});

describe('a logger in JSON format', () => {
  it('writes one parseable JSON object a line, with the scope fields', () => {
    const { log, lines } = capture('json');
    log.child({ worker: 'w1', run: '0xab', assignment: 'a1' }).warn('Could not stop the container', { container: 'c0ffee' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record).toEqual({
      level: 'warn',
      time: expect.stringMatching(TIME),
      program: 'cl-worker',
      worker: 'w1',
      run: '0xab',
      assignment: 'a1',
      container: 'c0ffee',
      msg: 'Could not stop the container',
    });
  });
});

describe('levels', () => {
  it('drops debug lines unless verbose', () => {
    const quiet = capture('text');
    quiet.log.debug('detail');
    quiet.log.child({ run: '0x1' }).debug('detail');
    quiet.log.info('news');
    expect(quiet.lines).toHaveLength(1);
    const verbose = capture('json', true);
    verbose.log.child({ run: '0x1' }).debug('detail');
    expect(JSON.parse(verbose.lines[0] ?? '')).toMatchObject({ level: 'debug', run: '0x1', msg: 'detail' });
  });

  it('writes every level under its own name', () => {
    const { log, lines } = capture('text', true);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['debug', 'info', 'warn', 'error']);
  });
});

describe('--log-format', () => {
  it('accepts text and json, and names the flag otherwise', () => {
    expect(parseLogFormat('text')).toBe('text');
    expect(parseLogFormat('JSON')).toBe('json');
    expect(() => parseLogFormat('pretty')).toThrow(new UsageError("Invalid --log-format 'pretty': expected text or json."));
  });
});

describe('test loggers', () => {
  it('a recording logger keeps level, message, merged scope and fields of every child', () => {
    const log = createRecordingLogger();
    log.child({ worker: 'w1' }).child({ run: '0xab' }).warn('Not taking the run', { slots: 2 });
    log.info('plain');
    expect(log.lines).toEqual([
      { level: 'warn', message: 'Not taking the run', scope: { worker: 'w1', run: '0xab' }, fields: { slots: 2 } },
      { level: 'info', message: 'plain', scope: {}, fields: {} },
    ]);
    expect(log.messages()).toEqual(['Not taking the run', 'plain']);
  });

  it('a logger spread from silentLogger keeps its overrides in children', () => {
    const seen: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m) => seen.push(m) };
    log.child({ worker: 'w1' }).child({ run: '0x1' }).warn('heard');
    silentLogger.child({ run: '0x1' }).warn('dropped');
    expect(seen).toEqual(['heard']);
  });
});
