import { splitStreamId } from '../../stream-id.ts';

/**
 * Positions of a Kafka-sourced sink. A message at offset `o` is at position `<o + 1>-0`: what a
 * sink stores once it applied the message is Kafka's own notion of a committed offset, the next
 * offset to read, and `0-0` (nothing applied) stays below every message, offset 0 included
 * (`<o>-0` would make offset 0 look applied already). Positions order like stream ids, as the
 * runtime compares them (`compareStreamIds`).
 */
export function positionAfter(offset: string | bigint): string {
  return `${BigInt(offset) + 1n}-0`;
}

/**
 * The offset to read next once everything up to `position` is applied: `o` for `<o>-0`. A
 * position with another sequence part was not made here (a stream id stored while the sink read
 * the partition streams): read from its first part on, which re-reads at worst, never skips.
 */
export function nextOffsetAfter(position: string): bigint {
  return BigInt(splitStreamId(position)[0]);
}
