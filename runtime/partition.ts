/**
 * Stable partition choice: 32-bit FNV-1a over the key's UTF-8 bytes, modulo the partition count.
 * Stable across processes, versions and languages (the algorithm is fully specified at
 * http://www.isthe.com/chongo/tech/comp/fnv/), so every writer sends one key to one stream and the
 * key's events keep their order.
 */
export function partitionOf(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  }
  return fnv1a32(key) % partitions;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}
