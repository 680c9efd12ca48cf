import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';

const v1 = parseSchema({
  type: 'record',
  name: 'Todo',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'due', type: { type: 'int', logicalType: 'date' } },
  ],
});
const v2 = parseSchema({
  type: 'record',
  name: 'Todo',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'due', type: { type: 'int', logicalType: 'date' } },
    { name: 'priority', type: ['null', 'int'], default: null },
  ],
});

test('resolve v1 writer to v2 reader: the new optional field takes its default', () => {
  const buf = v1.toBuffer({ id: 'a', due: '2024-02-29' });
  const value = v2.fromBuffer(buf, v2.createResolver(v1)) as Record<string, unknown>;
  assert.deepEqual({ ...value }, { id: 'a', due: '2024-02-29', priority: null });
});

test('a field added without a default is not backward compatible', () => {
  const bad = parseSchema({
    type: 'record',
    name: 'Todo',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'due', type: { type: 'int', logicalType: 'date' } },
      { name: 'owner', type: 'string' },
    ],
  });
  assert.throws(() => bad.createResolver(v1));
});
