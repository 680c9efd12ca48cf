/**
 * A RESP2 reply held as its bytes and a flat token list instead of JavaScript values.
 *
 * Tokens are in reply order (an array's token comes before its elements), three integers each:
 * kind, then two numbers whose meaning depends on the kind. Byte positions index `data`.
 */
export interface RespReply {
  readonly data: Buffer;
  /** `count` tokens of three integers each. */
  readonly tokens: Int32Array;
  readonly count: number;
}

/** Kinds of token. */
export const RESP = {
  /** An array: first number = element count (its elements follow). */
  array: 1,
  /** A bulk string: start and end (exclusive) of its bytes. */
  bulk: 2,
  /** A null bulk string or null array. */
  null: 3,
  /** An integer: start and end of its decimal text. */
  integer: 4,
  /** A simple string (`+OK`): start and end of its text. */
  simple: 5,
  /** An error reply (`-ERR …`): start and end of its text. */
  error: 6,
} as const;

export function tokenKind(reply: RespReply, token: number): number {
  return reply.tokens[token * 3]!;
}

/** The bytes of a bulk, simple, integer or error token, as a view of the reply's data. */
export function tokenBytes(reply: RespReply, token: number): Buffer {
  const { tokens, data } = reply;
  return data.subarray(tokens[token * 3 + 1], tokens[token * 3 + 2]);
}

/** The text of a bulk, simple, integer or error token. */
export function tokenText(reply: RespReply, token: number): string {
  const { tokens, data } = reply;
  return data.toString('utf8', tokens[token * 3 + 1], tokens[token * 3 + 2]);
}

/** The message of a reply that is a single error, or undefined. */
export function replyError(reply: RespReply): string | undefined {
  return reply.count > 0 && tokenKind(reply, 0) === RESP.error ? tokenText(reply, 0) : undefined;
}
