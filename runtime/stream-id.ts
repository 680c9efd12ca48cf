/**
 * Redis stream ids are `<ms>-<seq>`, two unsigned 64-bit decimals. They order numerically per part,
 * not as strings ("9-0" < "10-0"), so every comparison goes through here. Comparisons run for
 * every event a sink reads, so they work on the digit strings (a longer number is larger, equal
 * lengths compare as text) without BigInt.
 */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export function parseStreamId(id: string): StreamId {
  const [ms, seq] = splitStreamId(id);
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

/** The two parts of a stream id as decimal strings (what SQL bigint parameters take). */
export function splitStreamId(id: string): [ms: string, seq: string] {
  const dash = dashOf(id);
  return [id.slice(0, dash), id.slice(dash + 1)];
}

/**
 * The two parts of a stream id as numbers, or undefined when one does not fit a safe integer
 * (Redis allows any unsigned 64-bit part; ids it generates have milliseconds and small sequence
 * numbers). Parsed digit by digit: sinks convert every event's id.
 */
export function streamIdNumbers(id: string): [ms: number, seq: number] | undefined {
  let ms = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code === 0x2d && ms < 0 && digits > 0) {
      ms = value;
      value = 0;
      digits = 0;
      continue;
    }
    const digit = code - 0x30;
    if (digit < 0 || digit > 9) throw new TypeError(`not a stream id: "${id}"`);
    value = value * 10 + digit;
    digits++;
  }
  if (ms < 0 || digits === 0) throw new TypeError(`not a stream id: "${id}"`);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(value) ? [ms, value] : undefined;
}

export function isStreamId(id: string): boolean {
  return dashIndex(id) > 0;
}

/** Index of the dash of a stream id (`<digits>-<digits>`), or -1 for anything that is not one. */
function dashIndex(id: string): number {
  let dash = -1;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code === 0x2d && dash < 0 && i > 0) dash = i;
    else if (code < 0x30 || code > 0x39) return -1;
  }
  return dash === id.length - 1 ? -1 : dash;
}

/** Index of the dash of a stream id; throws TypeError for anything that is not one. */
function dashOf(id: string): number {
  const dash = dashIndex(id);
  if (dash < 0) throw new TypeError(`not a stream id: "${id}"`);
  return dash;
}

/** Compares `a.slice(aFrom, aTo)` with `b.slice(bFrom, bTo)` as numbers, without slicing. */
function compareDigitRanges(
  a: string,
  aFrom: number,
  aTo: number,
  b: string,
  bFrom: number,
  bTo: number,
): number {
  if (aTo - aFrom !== bTo - bFrom) return aTo - aFrom < bTo - bFrom ? -1 : 1;
  for (let i = 0; i < aTo - aFrom; i++) {
    const d = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Negative when a < b, zero when equal, positive when a > b. Both must be stream ids without
 * leading zeros (as Redis writes them).
 */
export function compareStreamIds(a: string, b: string): number {
  const da = dashOf(a);
  const db = dashOf(b);
  if (a === b) return 0;
  return (
    compareDigitRanges(a, 0, da, b, 0, db) ||
    compareDigitRanges(a, da + 1, a.length, b, db + 1, b.length)
  );
}

/** The millisecond timestamp Redis put in the id (when the entry was appended). */
export function streamIdTime(id: string): number {
  return Number(splitStreamId(id)[0]);
}

/** The lowest possible id: nothing applied yet. */
export const ZERO_ID = '0-0';
