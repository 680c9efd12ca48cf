import { RedisReadError } from '../errors/redis-read-error.ts';
import { RESP, type RespReply } from './resp-reply.ts';

const CR = 13;
const LF = 10;
const MINUS = 45;
const ZERO = 48;
const DOLLAR = 36;
const STAR = 42;
const PLUS = 43;
const COLON = 58;

/** Smallest buffer a reply spanning several socket chunks is gathered in. */
const MIN_CAPACITY = 64 * 1024;
const MIN_TOKENS = 256;

/**
 * Splits the bytes of a connection into RESP2 replies, each kept as bytes plus tokens
 * (`RespReply`): no JavaScript value per bulk string.
 *
 * Why not the Redis client's parser: it makes a Buffer object for every bulk string, thirteen per
 * stream entry, and a sink's read of a thousand entries lives through the apply before it, so
 * those objects survived young-generation collections and were copied and promoted: a third of a
 * sink's CPU went to the garbage collector. Here a reply is one buffer and one integer array.
 *
 * A reply starts at offset 0 of `data`; bytes arriving after a complete reply start the next one.
 * Replies are never reused: whoever receives one may keep views of its data.
 */
export class RespScanner {
  private data: Buffer = Buffer.alloc(0);
  /** Whether `data` was allocated here (and may be written beyond `length`). */
  private owned = false;
  /** Bytes of `data` received so far. */
  private length = 0;
  /** Next byte to scan. */
  private pos = 0;
  private tokens = new Int32Array(MIN_TOKENS * 3);
  private count = 0;
  /** Size of the last reply that spanned chunks: the next such one is gathered in one buffer. */
  private lastGathered = 0;
  /** Elements still expected by each open array, innermost last. */
  private readonly open: number[] = [];

  /** Takes the next chunk from the connection; returns the replies it completed, in order. */
  push(chunk: Buffer): RespReply[] {
    this.append(chunk);
    const replies: RespReply[] = [];
    while (this.scan()) {
      replies.push({ data: this.data, tokens: this.tokens, count: this.count });
      if (this.owned) this.lastGathered = this.pos;
      const rest = this.data.subarray(this.pos, this.length);
      this.data = rest;
      this.owned = false;
      this.length = rest.length;
      this.pos = 0;
      // As many tokens as the last reply had, so that a run of large reads never grows them.
      this.tokens = new Int32Array(Math.max(MIN_TOKENS, this.count) * 3);
      this.count = 0;
    }
    return replies;
  }

  /** Whether part of a reply has been received. */
  get partial(): boolean {
    return this.length > 0;
  }

  private append(chunk: Buffer): void {
    if (this.length === 0) {
      // Most replies arrive in one chunk: keep it as it is, no copy.
      this.data = chunk;
      this.owned = false;
      this.length = chunk.length;
      return;
    }
    const needed = this.length + chunk.length;
    if (!this.owned || needed > this.data.length) {
      // Sized for a reply like the last large one, so that one copy usually does.
      const capacity = Math.max(
        MIN_CAPACITY,
        needed * 2,
        this.lastGathered + (this.lastGathered >> 3),
      );
      const grown = Buffer.allocUnsafeSlow(capacity);
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
      this.owned = true;
    }
    chunk.copy(this.data, this.length);
    this.length = needed;
  }

  private token(kind: number, a: number, b: number): void {
    let tokens = this.tokens;
    const at = this.count * 3;
    if (at + 3 > tokens.length) {
      const grown = new Int32Array(tokens.length * 2);
      grown.set(tokens);
      this.tokens = tokens = grown;
    }
    tokens[at] = kind;
    tokens[at + 1] = a;
    tokens[at + 2] = b;
    this.count++;
  }

  /**
   * Scans from `pos` as far as the bytes go. True once the reply that starts at offset 0 is
   * complete (`pos` is then its end); false when more bytes are needed.
   */
  private scan(): boolean {
    const data = this.data;
    const end = this.length;
    const open = this.open;
    let pos = this.pos;
    for (;;) {
      if (pos >= end) break;
      const type = data[pos]!;
      // The header line: type byte, text or a decimal, CRLF.
      let cr = pos + 1;
      while (cr < end && data[cr] !== CR) cr++;
      if (cr + 1 >= end) break;
      if (data[cr + 1] !== LF) throw this.corrupt(pos, 'a header line without CRLF');
      if (type === DOLLAR || type === STAR) {
        const n = this.decimal(pos + 1, cr);
        if (n < 0) {
          this.token(RESP.null, 0, 0);
          pos = cr + 2;
        } else if (type === DOLLAR) {
          const start = cr + 2;
          const stop = start + n;
          if (stop + 2 > end) break;
          if (data[stop] !== CR || data[stop + 1] !== LF)
            throw this.corrupt(pos, 'a bulk string longer than its length');
          this.token(RESP.bulk, start, stop);
          pos = stop + 2;
        } else {
          this.token(RESP.array, n, 0);
          pos = cr + 2;
          if (n > 0) {
            open.push(n);
            continue;
          }
        }
      } else if (type === PLUS || type === MINUS || type === COLON) {
        const kind = type === PLUS ? RESP.simple : type === MINUS ? RESP.error : RESP.integer;
        this.token(kind, pos + 1, cr);
        pos = cr + 2;
      } else {
        throw this.corrupt(pos, `type byte ${type}`);
      }
      // An element is complete: count it off its array, and arrays that it completes off theirs.
      let depth = open.length;
      while (depth > 0 && --open[depth - 1]! === 0) {
        open.pop();
        depth--;
      }
      if (depth === 0) {
        this.pos = pos;
        return true;
      }
    }
    // An unfinished header or bulk string is scanned again from its start once more bytes came;
    // tokens are only written for elements whose bytes are all there, so nothing is undone.
    this.pos = pos;
    return false;
  }

  private decimal(from: number, to: number): number {
    const data = this.data;
    let i = from;
    const negative = data[i] === MINUS;
    if (negative) i++;
    if (i >= to) throw this.corrupt(from - 1, 'an empty length');
    let n = 0;
    for (; i < to; i++) {
      const digit = data[i]! - ZERO;
      if (digit < 0 || digit > 9) throw this.corrupt(from - 1, 'a length that is not a number');
      n = n * 10 + digit;
    }
    return negative ? -n : n;
  }

  private corrupt(at: number, what: string): RedisReadError {
    return new RedisReadError(
      `Redis sent bytes that are not RESP: ${what} at byte ${at} of a reply`,
    );
  }
}
