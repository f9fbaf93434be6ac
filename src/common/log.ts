// One-line log messages on stderr with a timestamp, a prefix naming the program, and a level.
// Shared by server and worker. It formats and writes only; callers decide what is worth saying.

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface StderrLoggerOptions {
  verbose: boolean;
  /** Written before every message, e.g. `cl-worker`. */
  prefix?: string;
  write?: (line: string) => void;
}

export function createStderrLogger(options: StderrLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const prefix = options.prefix ?? 'codalab';
  const emit = (level: string, message: string): void => {
    const oneLine = message.replace(/\s*\n\s*/g, ' | ');
    write(`${new Date().toISOString()} ${prefix} ${level} ${oneLine}\n`);
  };
  return {
    debug: (m) => {
      if (options.verbose) emit('debug', m);
    },
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
