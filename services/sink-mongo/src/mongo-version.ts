import { parseStreamId } from '../../../runtime/stream-id.ts';

/**
 * Both parts of a Redis stream id are unsigned 64-bit integers: at most 20 decimal digits
 * (18446744073709551615). See https://redis.io/docs/latest/develop/data-types/streams/#entry-ids
 */
const DIGITS = 20;
const ZEROS = '0'.repeat(DIGITS);
/** Ids as Redis writes them, each part short enough to be below 2^64 whatever its digits. */
const PLAIN_ID = /^\d{1,19}-\d{1,19}$/;

/**
 * A stream id in the form the sink stores as a document's version (`_v`) and an offset's position:
 * both parts zero-padded to 20 digits, `"00000001700000000000-00000000000000000005"`.
 *
 * Fixed width makes string order equal numeric order ("9-0" < "10-0" holds once padded), and
 * MongoDB compares strings byte by byte under the default (simple) collation, so a plain `$lt`
 * filter guards a write. A string was chosen over `{ ms: Long, seq: Long }` because it holds the
 * full unsigned 64-bit range (a signed BSON Long does not), compares with one operator instead of a
 * two-field `$or`, does not depend on how a server orders embedded documents, and reads as the id.
 */
export function encodeVersion(streamId: string): string {
  // Every event's id goes through here: padding the text is enough for the ids Redis writes, and
  // slices of one string of zeros cost less than padStart (about a quarter less per id).
  if (PLAIN_ID.test(streamId)) {
    const dash = streamId.indexOf('-');
    return (
      ZEROS.slice(dash) +
      streamId.slice(0, dash) +
      '-' +
      ZEROS.slice(streamId.length - dash - 1) +
      streamId.slice(dash + 1)
    );
  }
  const { ms, seq } = parseStreamId(streamId);
  return `${ms.toString().padStart(DIGITS, '0')}-${seq.toString().padStart(DIGITS, '0')}`;
}

/** Whether `version` (encoded) is strictly newer than `stored` (encoded, or absent). */
export function isNewerVersion(version: string, stored: string | undefined): boolean {
  return stored === undefined || version > stored;
}
