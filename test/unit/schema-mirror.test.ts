import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import {
  decodeMirroredSchema,
  encodeMirroredSchema,
  type MirroredSchema,
  mirrorSchema,
  schemaMirrorTopic,
} from '../../runtime/kafka/schema-mirror.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';

const record: MirroredSchema = {
  id: 7,
  entity: 'todo',
  version: 2,
  fingerprint: 'ab'.repeat(32),
  schema: '{"type":"record","name":"todo","fields":[{"name":"id","type":"string"}]}',
  metadata: { partitions: 4, keyField: 'id' },
};

test('the schema mirror is the compacted topic <prefix>.__schemas', () => {
  assert.equal(schemaMirrorTopic('cdc'), 'cdc.__schemas');
});

test('a mirror record is keyed by its schema id and round-trips with its entity metadata', () => {
  const message = encodeMirroredSchema(record);
  assert.equal(message.key.toString(), '7');
  const value = JSON.parse(message.value.toString()) as Record<string, unknown>;
  // The schema text travels exactly as registered: its identity in the registry depends on it.
  assert.equal(value.schema, record.schema);
  assert.equal(value.format, 1);
  assert.deepEqual(decodeMirroredSchema(message), record);
});

test('a tombstone in the mirror decodes as nothing to restore', () => {
  assert.equal(decodeMirroredSchema({ key: Buffer.from('7'), value: null }), undefined);
});

test('what is not a mirror record is refused with the reason', () => {
  const good = JSON.parse(encodeMirroredSchema(record).value.toString()) as Record<string, unknown>;
  const cases: Array<[string, Buffer, RegExp]> = [
    ['7', Buffer.from('not json'), /not JSON/],
    ['7', Buffer.from(JSON.stringify({ ...good, format: 2 })), /format 1/],
    ['8', Buffer.from(JSON.stringify(good)), /keyed "8" holds schema id 7/],
    ['7', Buffer.from(JSON.stringify({ ...good, version: 0 })), /bad version/],
    ['7', Buffer.from(JSON.stringify({ ...good, keyField: '' })), /bad keyField/],
  ];
  for (const [key, value, reason] of cases)
    assert.throws(
      () => decodeMirroredSchema({ key: Buffer.from(key), value }),
      (err: unknown) => err instanceof EnvelopeError && reason.test(err.message),
    );
});

test('mirroring a schema id sends it with every earlier version of its entity, in order', async () => {
  const version = (id: number, v: number): RegisteredSchema => ({
    ...record,
    id,
    version: v,
    type: parseSchema(record.schema),
  });
  const versions = [version(3, 1), version(7, 2), version(9, 3)];
  const registry = {
    get: async (id: number) => versions.find((v) => v.id === id)!,
    versions: async () => versions,
  };
  const sent: Array<{ topic: string; keys: string[] }> = [];
  const sender = {
    send: async (r: { topic: string; messages: Array<{ key?: unknown }> }) => {
      sent.push({ topic: r.topic, keys: r.messages.map((m) => String(m.key)) });
      return [];
    },
  };
  const records = await mirrorSchema(sender, 'cdc', registry, 7, record.metadata);
  assert.deepEqual(
    records.map((r) => r.id),
    [3, 7],
  );
  assert.deepEqual(sent, [{ topic: 'cdc.__schemas', keys: ['3', '7'] }]);
});
