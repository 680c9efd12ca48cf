/** How a column's cells line up: markdown's `---` (left) or `---:` (right). */
export type ColumnAlign = 'left' | 'right';

/**
 * A markdown table with every column padded to its widest cell, so that it reads in a terminal as
 * it renders. By default the first column (the row's name) is left-aligned and the others
 * (figures) right-aligned.
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ColumnAlign[] = headers.map((_, i) => (i === 0 ? 'left' : 'right')),
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
