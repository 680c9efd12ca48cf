/**
 * Splits the document writes of one collection into at most `parts` runs of consecutive writes:
 * the first `minimum` long, the others sharing the rest as evenly as the count allows (sizes
 * differ by one at most), none shorter than `minimum`. Fewer than twice `minimum` writes, or
 * `parts` 1, make one run; no writes make none.
 *
 * The runs go to the server as concurrent bulk writes, each sent once the one before is on the
 * wire (mongo-sink.ts): while the server applies one, the driver builds and serializes the next,
 * which on a machine shared with the database is most of the sink's time. The first run is short
 * so that the server gets work as soon as possible: it waits for the first run to be built, and
 * only for that one. Any split is safe because the writes of one apply touch distinct `_id`s
 * (latest-per-key.ts), so no two of them have an order to keep.
 */
export function writeChunks<T>(writes: readonly T[], parts: number, minimum: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1)
    throw new RangeError(`parts must be >= 1, got ${parts}`);
  if (!Number.isInteger(minimum) || minimum < 1)
    throw new RangeError(`minimum must be >= 1, got ${minimum}`);
  if (writes.length === 0) return [];
  if (parts === 1 || writes.length < 2 * minimum) return [writes.slice()];
  const rest = writes.length - minimum;
  const count = Math.max(1, Math.min(parts - 1, Math.floor(rest / minimum)));
  const chunks: T[][] = [writes.slice(0, minimum)];
  let start = minimum;
  for (let i = 0; i < count; i++) {
    // The first (rest % count) runs take one more, so sizes differ by one at most.
    const end = start + Math.floor(rest / count) + (i < rest % count ? 1 : 0);
    chunks.push(writes.slice(start, end));
    start = end;
  }
  return chunks;
}
