// The one logger of server and worker: levelled lines on stderr that carry their scope (worker,
// run, assignment, request) the way graphile-worker's loggers do, so no message repeats it by
// hand. Backed by pino, synchronous, no transports; `text` lines are rendered by log-text.ts.
// It formats and writes only: callers decide what is worth saying.
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import { renderTextLine } from './log-text.js';
import { UsageError } from './usage-error.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A value a line may carry: flat and printable, so text and JSON show the same thing. */
export type LogValue = string | number | boolean | null | undefined;

/**
 * Who or what a line is about, set once on a child logger and written on every line it writes.
 * The names below are the ones to filter on; undefined values are left out.
 */
export interface LogScope {
  /** Worker id. */
  worker?: string;
  /** Run bundle uuid. */
  run?: string;
  /** Assignment id of the run on its worker. */
  assignment?: string;
  /** HTTP request id on the server. */
  request?: string;
  [key: string]: LogValue;
}

/** Extra fields of one line (sizes, container ids, ...). Not `time`, `level`, `program` or `msg`. */
export type LogFields = Readonly<Record<string, LogValue>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines also carry `scope` (merged over this logger's own). */
  child(scope: LogScope): Logger;
}

/**
 * `text`: one readable line (time, program, level, message, then the scope as key=value).
 * `json`: pino's JSON lines, for log collectors.
 */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export interface LoggerOptions {
  /** Named on every line, e.g. `cl-worker`. */
  program: string;
  /** Debug lines too (`--verbose`). */
  verbose: boolean;
  format: LogFormat;
  /** Where finished lines go (each ends in a newline); stderr by default. */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  // pino hands each line to this stream synchronously: no worker thread, nothing lost on exit.
  const stream = { write: options.format === 'json' ? write : (json: string) => write(renderJsonAsText(json)) };
  const root = pino(
    {
      level: options.verbose ? 'debug' : 'info',
      base: { program: options.program },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return wrap(root);
}

function wrap(p: PinoLogger): Logger {
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
    // Always through the object form: pino would read `%s` in a lone message as a placeholder.
    p[level](fields ?? {}, message);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (scope) => wrap(p.child(scope)),
  };
}

function renderJsonAsText(json: string): string {
  try {
    return renderTextLine(JSON.parse(json) as Record<string, unknown>);
  } catch {
    return json;
  }
}

/** `--log-format`'s value, or a UsageError naming the flag. */
export function parseLogFormat(text: string): LogFormat {
  const format = LOG_FORMATS.find((f) => f === text.trim().toLowerCase());
  if (format === undefined) throw new UsageError(`Invalid --log-format '${text}': expected text or json.`);
  return format;
}

/**
 * A logger that drops everything, for tests that do not look at logs. Its child is the logger it
 * was called on, so a test logger built as `{ ...silentLogger, warn: ... }` keeps its overrides
 * in the children the code under test makes.
 */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child(this: Logger) {
    return this;
  },
};
