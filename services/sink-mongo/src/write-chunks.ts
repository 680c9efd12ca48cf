/**
 * Splits the document writes of one collection into at most `parts` runs of consecutive writes,
 * none shorter than `minimum` (one run when there are fewer than twice as many, none when
 * there are no writes), as even as the
 * count allows. The runs go to the server as concurrent bulk writes: while the server applies one,
 * the driver serializes the next, which on a machine shared with the database is most of the
 * sink's time. Any split is safe because the writes of one apply touch distinct `_id`s
 * (latest-per-key.ts), so no two of them have an order to keep.
 */
export function writeChunks<T>(writes: readonly T[], parts: number, minimum: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1)
    throw new RangeError(`parts must be >= 1, got ${parts}`);
  if (!Number.isInteger(minimum) || minimum < 1)
    throw new RangeError(`minimum must be >= 1, got ${minimum}`);
  if (writes.length === 0) return [];
  const count = Math.max(1, Math.min(parts, Math.floor(writes.length / minimum)));
  const chunks: T[][] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    // The first (length % count) runs take one more, so sizes differ by one at most.
    const end = start + Math.floor(writes.length / count) + (i < writes.length % count ? 1 : 0);
    chunks.push(writes.slice(start, end));
    start = end;
  }
  return chunks;
}
