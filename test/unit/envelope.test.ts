import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/envelope.ts';
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
