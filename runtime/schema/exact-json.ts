/**
 * JSON that keeps every digit of an integer beyond ±(2^53 − 1), the longs of 64-bit ids: such a
 * literal is read as a BigInt, and a BigInt is written as its digits, a plain JSON number literal.
 * `JSON.parse` would round it to a double, and `JSON.stringify` refuses BigInts; Node 20 has
 * neither `JSON.rawJSON` nor the reviver's source text that would let them do it.
 *
 * Both keep to the built-ins for what does not need this, the most common case by far: a text
 * without a run of 16 digits holds no integer beyond 2^53, and a value without a BigInt is written
 * by `JSON.stringify` alone.
 */

/** 9007199254740991, the highest safe integer, has 16 digits: no shorter literal can exceed it. */
const LONG_DIGITS = /\d{16}/;

/** True when the text may hold an integer literal JSON.parse would round. */
export function mayHoldBigIntegers(text: string): boolean {
  return LONG_DIGITS.test(text);
}

/**
 * Thrown for a text that is not JSON, or that holds a key which would reach an object's prototype
 * (`__proto__`, or `constructor` holding a `prototype`: refused as fastify refuses them).
 */
export class JsonTextError extends SyntaxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JsonTextError';
  }
}

/**
 * Parses JSON like `JSON.parse`, but reads an integer literal that is not a safe integer as a
 * BigInt (any other number as a number). Throws JsonTextError.
 */
export function parseExactJson(text: string): unknown {
  if (!mayHoldBigIntegers(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new JsonTextError((error as Error).message, { cause: error });
    }
  }
  try {
    return new ExactJsonReader(text).document();
  } catch (error) {
    // The reader recurses once per level: a text nested deeper than the stack is refused.
    if (error instanceof RangeError)
      throw new JsonTextError('the JSON is nested too deeply', { cause: error });
    throw error;
  }
}

/** Writes JSON like `JSON.stringify`, with a BigInt as its digits. */
export function stringifyExactJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // JSON.stringify throws a TypeError for a BigInt (and for a cycle, which records never have).
    if (!(error instanceof TypeError)) throw error;
    return write(value, '');
  }
}

function write(value: unknown, key: string): string | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value, key), key);
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => write(item, String(i)) ?? 'null').join(',')}]`;
  }
  const parts: string[] = [];
  for (const name of Object.keys(value)) {
    const text = write((value as Record<string, unknown>)[name], name);
    if (text !== undefined) parts.push(`${JSON.stringify(name)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
/** The longest integer literal (sign included) that is always a safe integer: 15 digits. */
const ALWAYS_SAFE_LENGTH = 16;

/**
 * A recursive-descent reader of RFC 8259 JSON (https://www.rfc-editor.org/rfc/rfc8259), taken
 * only for texts that may hold big integers. Strings are cut out here and decoded by JSON.parse,
 * which knows every escape.
 */
class ExactJsonReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value();
    this.space();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private value(): unknown {
    this.space();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of JSON' : `unexpected "${c}"`);
    }
  }

  private object(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.space();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      const value = this.value();
      if (key === '__proto__') this.fail('object contains forbidden prototype property');
      if (key === 'constructor' && isObject(value) && Object.hasOwn(value, 'prototype'))
        this.fail('object contains forbidden prototype property');
      out[key] = value;
      this.space();
      const next = this.text[this.pos++];
      if (next === '}') return out;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const next = this.text[this.pos++];
      if (next === ']') return out;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const { text } = this;
    const start = this.pos;
    let pos = start + 1;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (Number.isNaN(code)) this.fail('unterminated string');
      if (code === 0x22) break;
      pos += code === 0x5c ? 2 : 1;
    }
    this.pos = pos + 1;
    try {
      return JSON.parse(text.slice(start, this.pos)) as string;
    } catch (error) {
      return this.fail(`invalid string: ${(error as Error).message}`);
    }
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('invalid number');
    const literal = match[0];
    this.pos += literal.length;
    const value = Number(literal);
    const integer = match[1] === undefined && match[2] === undefined;
    if (!integer || literal.length < ALWAYS_SAFE_LENGTH || Number.isSafeInteger(value))
      return value;
    return BigInt(literal);
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  private space(): void {
    const { text } = this;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private fail(problem: string): never {
    throw new JsonTextError(`${problem} at position ${this.pos}`);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
