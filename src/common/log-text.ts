// The readable form of a log line, rendered from pino's JSON record: time, program, level,
// message, then every other field (the scope first, as pino writes it) as key=value. One line
// always: newlines in the message become ` | `. Pure; writes nothing.

/** Fields that have their own place at the front of the line. */
const LEADING = new Set(['time', 'program', 'level', 'msg']);

export function renderTextLine(record: Readonly<Record<string, unknown>>): string {
  const message = String(record.msg ?? '').trim().replace(/\s*\n\s*/g, ' | ');
  const head = [record.time, record.program, record.level].map((v) => String(v ?? '-')).join(' ');
  const pairs = Object.entries(record)
    .filter(([key, value]) => !LEADING.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return `${[head, message, ...pairs].filter((part) => part !== '').join(' ')}\n`;
}

/** Bare when the value reads back unambiguously, else JSON-quoted (spaces, quotes, `=`, empty). */
function formatValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
