import { newError } from '../errors/index.js';
import { escapeControl } from '../util/escape-control.js';

/** How a listing is printed: docker's columns, one JSON object per line, or ids only. */
export type ListFormat = 'table' | 'json' | 'quiet';

/**
 * Text for the terminal: control characters (ESC, CR, C1…) from a registry, an archive or containerd are shown as
 * visible escapes instead of being acted on. Everything the CLI prints that it did not write itself goes through
 * this, {@link printableJson} or {@link renderList}.
 */
export const printable = escapeControl;

/**
 * `JSON.stringify` for the terminal: JSON already escapes C0 controls in strings; this also escapes DEL and the C1
 * controls (still valid JSON, the same value when parsed).
 */
export function printableJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A column of a listing: its header and how to get the cell from a row. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
}

/** Reads `--format` and `-q` into a {@link ListFormat}. @throws ERR_INVALID_ARGUMENT for an unknown format. */
export function listFormat(format: unknown, quiet: unknown): ListFormat {
  if (quiet === true) return 'quiet';
  if (format === undefined || format === 'table') return 'table';
  if (format === 'json') return 'json';
  throw newError('ERR_INVALID_ARGUMENT', `--format must be "table" or "json", got ${JSON.stringify(format)}`);
}

/**
 * Renders a listing the way docker does: upper-case headers, columns padded to the widest cell and separated by
 * three spaces; `json` prints each row's JSON form on its own line; `quiet` prints only ids. Cells are printable (control characters escaped).
 */
export function renderList<Row>(
  rows: readonly Row[],
  columns: ReadonlyArray<Column<Row>>,
  format: ListFormat,
  toJson: (row: Row) => unknown,
  id: (row: Row) => string,
): string {
  if (format === 'quiet') return rows.map((row) => `${printable(id(row))}\n`).join('');
  if (format === 'json') return rows.map((row) => `${printableJson(toJson(row))}\n`).join('');
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => printable(c.value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells
    .map(
      (line) =>
        line
          .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd() + '\n',
    )
    .join('');
}

/**
 * A byte count for people: docker's decimal units (`1.06MB`, `kB`), or with `binary` ctr's (`1.0 MiB`).
 */
export function humanSize(n: number, options: { binary?: boolean } = {}): string {
  const [base, units, sep] = options.binary ? [1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], ' '] : [1000, ['B', 'kB', 'MB', 'GB', 'TB'], ''];
  let i = 0;
  let v = n;
  for (; v >= base && i < units.length - 1; i++) v /= base;
  if (i === 0) return `${v}${sep}${units[0]}`;
  return `${options.binary ? v.toFixed(1) : v.toPrecision(3)}${sep}${units[i]}`;
}
