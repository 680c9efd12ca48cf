import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import { DecodedEvent } from '../../runtime/sink/decoded-event.ts';
import { positionOf } from '../../runtime/sink/sink.ts';
import { VERSION_FIELD, versionInFields } from '../../runtime/sink/source/event-source.ts';

const type = parseSchema({ type: 'record', name: 'T', fields: [{ name: 'id', type: 'string' }] });
const reader: RegisteredSchema = {
  id: 1,
  entity: 't',
  version: 1,
  fingerprint: '',
  schema: '',
  type,
};
const change = {
  id: '1700000000000-4',
  op: 'delete',
  entity: 't',
  key: 'k',
  capturedAt: 1,
} as const;

test('an event read from the partition streams is at its id; from elsewhere, at its position', () => {
  const streamed = new DecodedEvent(change, reader, undefined, undefined);
  assert.equal(streamed.position, '1700000000000-4');
  assert.equal(positionOf(streamed), '1700000000000-4');
  const fromKafka = new DecodedEvent(change, reader, undefined, undefined, '42-0');
  assert.equal(fromKafka.id, '1700000000000-4');
  assert.equal(positionOf(fromKafka), '42-0');
  // Events built by hand (tests, other tools) without a position are at their id.
  assert.equal(positionOf({ ...change, record: undefined }), '1700000000000-4');
});

test('a dead letter of a source whose positions are not versions names the version in its fields', () => {
  const fields = [
    Buffer.from('op'),
    Buffer.from('d'),
    Buffer.from(VERSION_FIELD),
    Buffer.from('5-1'),
  ];
  assert.equal(versionInFields(fields), '5-1');
  assert.equal(versionInFields(fields.slice(0, 2)), undefined);
});
