import assert from 'node:assert/strict';

/** A one-dimensional binary array as PostgreSQL's array_recv reads it. */
export interface ParsedArray {
  ndim: number;
  hasNull: boolean;
  oid: number;
  length: number;
  lowerBound: number;
  /** Each element's bytes, or null for a NULL element. */
  elements: (Buffer | null)[];
}

/**
 * Parses the binary array format independently of the builder, refusing what array_recv
 * refuses (src/backend/utils/adt/arrayfuncs.c): flags other than 0/1, negative lengths,
 * elements running past the end. Trailing bytes are refused too: the server reports
 * "incorrect binary data format" for a parameter it did not read to the end.
 */
export function parseArray(buf: Buffer): ParsedArray {
  let pos = 0;
  const int32 = (): number => {
    assert.ok(pos + 4 <= buf.length, `int32 at ${pos} runs past the end (${buf.length})`);
    const value = buf.readInt32BE(pos);
    pos += 4;
    return value;
  };
  const ndim = int32();
  const flags = int32();
  const oid = int32();
  assert.ok(flags === 0 || flags === 1, `invalid array flags ${flags}`);
  if (ndim === 0) {
    assert.equal(pos, buf.length, 'an empty array is only its 12-byte header');
    return { ndim, hasNull: flags === 1, oid, length: 0, lowerBound: 0, elements: [] };
  }
  assert.equal(ndim, 1, 'one dimension');
  const length = int32();
  const lowerBound = int32();
  const elements: (Buffer | null)[] = [];
  for (let i = 0; i < length; i++) {
    const size = int32();
    if (size === -1) {
      elements.push(null);
      continue;
    }
    assert.ok(size >= 0, `element ${i} has length ${size}`);
    assert.ok(pos + size <= buf.length, `element ${i} runs past the end`);
    elements.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  assert.equal(pos, buf.length, 'no bytes after the last element');
  return { ndim, hasNull: flags === 1, oid, length, lowerBound, elements };
}
