import { RedisReadError } from '../errors/redis-read-error.ts';
import { RESP, type RespReply, tokenBytes, tokenKind, tokenText } from './resp-reply.ts';

/** The entries one stream contributed to an XREADGROUP/XREAD reply, still as tokens. */
export interface StreamEntries {
  stream: string;
  reply: RespReply;
  /** Entry ids, in stream order. */
  ids: string[];
  /**
   * Per entry, the token of its first field name (names and values alternate from there), or -1
   * for an entry deleted from the stream after it was delivered (Redis sends its fields as null).
   */
  fieldsAt: Int32Array;
  /** Per entry, how many field names and values it has. */
  fieldItems: Int32Array;
}

/**
 * Splits an XREADGROUP (or XREAD) reply into its streams' entries. A null reply (a blocking read
 * that timed out) has none. Anything but the documented shape is a RedisReadError.
 */
export function streamEntries(reply: RespReply): StreamEntries[] {
  return streamEntriesAt(reply, 0).streams;
}

/**
 * Like `streamEntries`, for an XREADGROUP reply that starts at token `at` of a larger reply (an
 * element of EXEC's); `end` is the token after it.
 */
export function streamEntriesAt(
  reply: RespReply,
  at: number,
): { streams: StreamEntries[]; end: number } {
  let t = at;
  const kindAt = (token: number): number => (token < reply.count ? tokenKind(reply, token) : 0);
  const expect = (kind: number, what: string): number => {
    if (kindAt(t) !== kind)
      throw new RedisReadError(`unexpected XREADGROUP reply: ${what} expected at token ${t}`);
    return reply.tokens[t++ * 3 + 1]!;
  };
  if (at >= reply.count) return { streams: [], end: at };
  if (tokenKind(reply, at) === RESP.null) return { streams: [], end: at + 1 };
  const out: StreamEntries[] = [];
  const streams = expect(RESP.array, 'an array of streams');
  for (let s = 0; s < streams; s++) {
    if (expect(RESP.array, 'a [stream, entries] pair') !== 2)
      throw new RedisReadError('unexpected XREADGROUP reply: a stream is not a pair');
    const streamToken = t;
    expect(RESP.bulk, 'a stream name');
    const stream = tokenText(reply, streamToken);
    let n = 0;
    if (kindAt(t) === RESP.null) t++;
    else n = expect(RESP.array, 'entries');
    const ids = new Array<string>(n);
    const fieldsAt = new Int32Array(n);
    const fieldItems = new Int32Array(n);
    for (let e = 0; e < n; e++) {
      if (expect(RESP.array, 'an [id, fields] pair') !== 2)
        throw new RedisReadError('unexpected XREADGROUP reply: an entry is not a pair');
      const idToken = t;
      expect(RESP.bulk, 'an entry id');
      // Ids are ASCII: latin1 decoding is exact and cheaper than UTF-8.
      ids[e] = reply.data.toString(
        'latin1',
        reply.tokens[idToken * 3 + 1],
        reply.tokens[idToken * 3 + 2],
      );
      if (kindAt(t) === RESP.null) {
        t++;
        fieldsAt[e] = -1;
        continue;
      }
      const items = expect(RESP.array, 'an entry field list');
      fieldsAt[e] = t;
      fieldItems[e] = items;
      for (let f = 0; f < items; f++) expect(RESP.bulk, 'a field name or value');
    }
    out.push({ stream, reply, ids, fieldsAt, fieldItems });
  }
  return { streams: out, end: t };
}

/** An entry's fields as separate buffers (views of the reply), or null for a deleted entry. */
export function entryFields(entries: StreamEntries, index: number): Buffer[] | null {
  const at = entries.fieldsAt[index]!;
  if (at < 0) return null;
  const fields: Buffer[] = [];
  for (let f = 0; f < entries.fieldItems[index]!; f++)
    fields.push(tokenBytes(entries.reply, at + f));
  return fields;
}
