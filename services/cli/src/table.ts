/** A table cell: what the commands put in their rows. */
export type Cell = string | number | boolean | bigint | null | undefined;

export interface TableOptions {
  /**
   * Wraps a cell's text (already padded) for display, e.g. in a colour; the width is measured on
   * the text before, so escape sequences never shift the columns. Default: as is.
   */
  decorate?: (column: string, value: Cell, text: string) => string;
}

/** Matches the ANSI escape sequences a decorated cell may hold (SGR colours). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: every ANSI escape starts with ESC
const ANSI = /\u001b\[[0-9;]*m/g;

/** The width a text takes on a terminal: its code points, escape sequences left out. */
export function displayWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/**
 * Rows as an aligned text table: a header of the columns (every key of any row, in first-seen
 * order), a rule, one line per row. Numbers are right-aligned, everything else left-aligned; a
 * missing cell is blank. No index column: the rows' own columns say what they are. Returns the
 * lines without a trailing newline; an empty string for no rows.
 */
export function formatTable(
  rows: ReadonlyArray<Readonly<Record<string, Cell>>>,
  options: TableOptions = {},
): string {
  if (rows.length === 0) return '';
  const columns: string[] = [];
  for (const row of rows)
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const texts = rows.map((row) => columns.map((c) => cellText(row[c])));
  const widths = columns.map((c, i) =>
    Math.max(displayWidth(c), ...texts.map((t) => displayWidth(t[i] ?? ''))),
  );
  // A column is numeric when every non-blank cell is a number: it reads right-aligned.
  const numeric = columns.map((c) =>
    rows.every(
      (row) =>
        row[c] === undefined ||
        row[c] === null ||
        typeof row[c] === 'number' ||
        typeof row[c] === 'bigint',
    ),
  );
  const pad = (text: string, i: number) => {
    const room = ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(text)));
    return numeric[i] ? room + text : text + room;
  };
  const line = (cells: string[]) => cells.join('  ').trimEnd();
  const out = [
    line(columns.map((c, i) => pad(c, i))),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row, r) =>
      line(
        columns.map((c, i) => {
          const text = pad(texts[r]?.[i] ?? '', i);
          return options.decorate ? options.decorate(c, row[c], text) : text;
        }),
      ),
    ),
  ];
  return out.join('\n');
}

function cellText(value: Cell): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/\s+/g, ' ');
}
