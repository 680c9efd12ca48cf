/**
 * Formats rows the way psql's expanded display (`\x`) does, one `column | value` line per
 * column: the shape of a `SELECT` in a walkthrough, readable however many columns a row has.
 */
export function expandedRows(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(0 rows)';
  return rows
    .map((row, i) => {
      const entries = Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]);
      const keyWidth = Math.max(...entries.map(([k]) => k!.length));
      const valueWidth = Math.max(...entries.map(([, v]) => v!.length));
      const title = `-[ RECORD ${i + 1} ]`;
      const header = `${title}${'-'.repeat(Math.max(0, keyWidth + 1 - title.length))}+${'-'.repeat(valueWidth + 1)}`;
      return [header, ...entries.map(([k, v]) => `${k!.padEnd(keyWidth)} | ${v}`)].join('\n');
    })
    .join('\n');
}
