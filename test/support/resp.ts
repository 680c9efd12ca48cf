/**
 * A RESP2 value as tests write it: a string or Buffer is a bulk string, null a null bulk string,
 * an array an array; the rest are tagged.
 */
export type Resp =
  | string
  | Buffer
  | null
  | readonly Resp[]
  | { int: number }
  | { simple: string }
  | { error: string }
  | { nullArray: true };

/** The bytes Redis would send for a value (https://redis.io/docs/latest/develop/reference/protocol-spec/). */
export function encodeResp(value: Resp): Buffer {
  if (value === null) return Buffer.from('$-1\r\n');
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
    return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
  }
  if (Array.isArray(value))
    return Buffer.concat([Buffer.from(`*${value.length}\r\n`), ...value.map(encodeResp)]);
  if ('int' in value) return Buffer.from(`:${value.int}\r\n`);
  if ('simple' in value) return Buffer.from(`+${value.simple}\r\n`);
  if ('error' in value) return Buffer.from(`-${value.error}\r\n`);
  return Buffer.from('*-1\r\n');
}
