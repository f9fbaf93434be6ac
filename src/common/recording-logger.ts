// A logger that keeps its lines in memory, scope included, for tests that check what was said
// (and about which run or worker). It writes nothing and has no levels to filter.
import type { LogFields, Logger, LogLevel, LogScope } from './log.js';

export interface RecordedLine {
  level: LogLevel;
  message: string;
  /** The merged scope of the child logger that wrote the line. */
  scope: LogScope;
  fields: LogFields;
}

export interface RecordingLogger extends Logger {
  /** Every line written through this logger or any of its children, oldest first. */
  readonly lines: RecordedLine[];
  /** Just the messages, for a quick `toContain`. */
  messages(): string[];
}

export function createRecordingLogger(): RecordingLogger {
  const lines: RecordedLine[] = [];
  const make = (scope: LogScope): Logger => {
    const at = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
      lines.push({ level, message, scope, fields });
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...scope, ...more }),
    };
  };
  return { ...make({}), lines, messages: () => lines.map((l) => l.message) };
}
