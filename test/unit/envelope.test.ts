import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEnvelope,
  ENVELOPE_FIELDS,
  encodeEnvelope,
  envelopeValues,
  SCHEMA_ID_POSITION,
} from '../../runtime/envelope.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';

const asRead = (fields: Array<string | Buffer>): Buffer[] =>
  fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(f)));

test('an upsert round-trips through the envelope with its binary payload intact', () => {
  const payload = Buffer.from([0, 255, 128, 10, 13]);
  const fields = encodeEnvelope({
    op: 'upsert',
    entity: 'todo',
    key: 'a',
    schemaId: 3,
    payload,
    capturedAt: 1700000000000,
    idempotencyKey: 'idem-1',
    traceId: 'trace-1',
  });
  const event = decodeEnvelope('1-0', asRead(fields));
  assert.deepEqual(event, {
    id: '1-0',
    op: 'upsert',
    entity: 'todo',
    key: 'a',
    schemaId: 3,
    payload,
    capturedAt: 1700000000000,
    idempotencyKey: 'idem-1',
    traceId: 'trace-1',
  });
});

test('a delete carries no schema id or payload', () => {
  const fields = encodeEnvelope({ op: 'delete', entity: 'todo', key: 'a', capturedAt: 5 });
  assert.deepEqual(decodeEnvelope('2-1', asRead(fields)), {
    id: '2-1',
    op: 'delete',
    entity: 'todo',
    key: 'a',
    capturedAt: 5,
  });
});

test('an upsert without payload cannot be encoded', () => {
  assert.throws(
    () => encodeEnvelope({ op: 'upsert', entity: 'todo', key: 'a', capturedAt: 1 }),
    EnvelopeError,
  );
});

test('malformed entries are rejected with EnvelopeError', () => {
  const bad: Array<[string, string[]]> = [
    ['1-0', ['op', 'x', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity', 'todo', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', 'soon']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', '0', 'data', '']],
    ['nope', ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity']],
  ];
  for (const [id, fields] of bad)
    assert.throws(() => decodeEnvelope(id, asRead(fields)), EnvelopeError, JSON.stringify(fields));
});

test('a payload read as text is refused rather than silently corrupted', () => {
  const fields = ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', '1', 'data', 'abc'];
  assert.throws(() => decodeEnvelope('1-0', fields), /must be read as buffers/);
});

test('the positional form names the same fields as the name/value form', () => {
  const events = [
    {
      op: 'upsert' as const,
      entity: 'todo',
      key: 'a',
      schemaId: 3,
      payload: Buffer.from([1, 2]),
      capturedAt: 9,
      idempotencyKey: 'i',
      traceId: 't',
    },
    { op: 'delete' as const, entity: 'todo', key: 'b', capturedAt: 10 },
  ];
  for (const event of events) {
    const values = envelopeValues(event);
    const pairs: Array<string | Buffer> = [];
    ENVELOPE_FIELDS.forEach((name, i) => {
      if (values[i] !== '') pairs.push(name, values[i]!);
    });
    assert.deepEqual(pairs, encodeEnvelope(event));
    assert.equal(String(values[SCHEMA_ID_POSITION]), event.op === 'upsert' ? '3' : '');
  }
});

test('buffers and strings decode alike; unknown fields are ignored; a repeated field keeps its last value', () => {
  const fields = [
    'op',
    'd',
    'extra',
    'x',
    'entity',
    'todo',
    'key',
    'k',
    'ts',
    '9',
    'ts',
    '12',
    'entities',
    'y',
  ];
  const expected = { id: '3-0', op: 'delete', entity: 'todo', key: 'k', capturedAt: 12 };
  assert.deepEqual(decodeEnvelope('3-0', fields), expected);
  assert.deepEqual(decodeEnvelope('3-0', asRead(fields)), expected);
});

test('capture times must be plain decimal digits', () => {
  for (const ts of ['-1', '1e3', ' 5', '0x10', '99999999999999999999']) {
    const fields = ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', ts];
    assert.throws(() => decodeEnvelope('1-0', asRead(fields)), /bad "ts"/, ts);
    assert.throws(() => decodeEnvelope('1-0', fields), /bad "ts"/, ts);
  }
  const fields = ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', '1732540800123'];
  assert.equal(decodeEnvelope('1-0', asRead(fields)).capturedAt, 1732540800123);
});
