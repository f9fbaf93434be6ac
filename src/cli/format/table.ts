// Plain-text tables as CodaLab prints them: a header row, a rule, then left-aligned columns
// separated by two spaces. Plain text greps and pipes well, so no box-drawing. Pure.
import { terminalText } from './terminal-text.js';

/** Cells are escaped here (terminal-text.ts), so every table is safe whatever its data. */
export function formatTable(headers: readonly string[], dataRows: readonly (readonly string[])[]): string[] {
  const rows = dataRows.map((row) => row.map((cell) => terminalText(cell)));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}
