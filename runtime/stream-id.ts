/**
 * Redis stream ids are `<ms>-<seq>`. They order numerically per part, not as strings
 * ("9-0" < "10-0"), so every comparison goes through here.
 */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

const PATTERN = /^(\d+)-(\d+)$/;

export function parseStreamId(id: string): StreamId {
  const match = PATTERN.exec(id);
  if (!match) throw new TypeError(`not a stream id: "${id}"`);
  return { ms: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

export function isStreamId(id: string): boolean {
  return PATTERN.test(id);
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

/** The millisecond timestamp Redis put in the id (when the entry was appended). */
export function streamIdTime(id: string): number {
  return Number(parseStreamId(id).ms);
}

/** The lowest possible id: nothing applied yet. */
export const ZERO_ID = '0-0';
