// One-line log messages on stderr with a timestamp and a component name.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export function createLogger(component: string, verbose = false): Logger {
  const write = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} [${component}] ${message}\n`);
  };
  return {
    info: (m) => write('INFO', m),
    warn: (m) => write('WARN', m),
    error: (m) => write('ERROR', m),
    debug: (m) => {
      if (verbose) write('DEBUG', m);
    },
  };
}
