// The one place where stored text becomes safe to print: control characters (C0, DEL, C1) that a
// hostile user put in a description, a command or a failure message could clear the screen, set
// the window title or fake output. They are shown escaped (`\x1b`, `\u009b`) instead. File
// contents (`cl cat`), a followed run's output and `--json` never pass through here.

/** C0 controls, DEL and C1 controls, except the layout characters handled by each mode. */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const LINE_BREAKS = /[\r\n\t]+/g;

export type TextMode =
  /** One line of a table or a tab-separated list: line breaks and tabs become one space. */
  | 'line'
  /** Text that may span lines (worksheet text): newlines and tabs stay, a lone `\r` is escaped. */
  | 'multiline';

export function terminalText(text: string, mode: TextMode = 'line'): string {
  const laidOut = mode === 'line' ? text.replace(LINE_BREAKS, ' ') : text.replace(/\r\n/g, '\n');
  return laidOut.replace(CONTROL, (char) => (mode === 'multiline' && (char === '\n' || char === '\t') ? char : escapeChar(char)));
}

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  const hex = code.toString(16).padStart(2, '0');
  return code < 0x80 ? `\\x${hex}` : `\\u00${hex}`;
}

/**
 * JSON for `--json`: JSON.stringify escapes C0 controls but leaves DEL and the C1 range raw, and
 * some terminals act on a UTF-8 encoded C1 (U+009B is CSI). Escaping them keeps the JSON exact.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (char) => `\\u00${char.charCodeAt(0).toString(16)}`);
}
