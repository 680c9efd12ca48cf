import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import type { PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { createTestMongo } from '../helpers/mongo.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

// Read from Kafka, a partition holds the events of several partition streams: positions (the
// offsets, as `<next offset>-0`) grow while versions (the captured stream ids) need not. The
// MongoDB sink must store positions as offsets and guard documents by versions, never mix them.

const schema = JSON.stringify(schemaFile('todo'));
const todo: RegisteredSchema = {
  id: 1,
  entity: 'todo',
  version: 1,
  fingerprint: '',
  schema,
  type: parseSchema(schema, 'todo'),
};

function event(op: 'upsert' | 'delete', key: string, id: string, offset: number): SinkEvent {
  const record =
    op === 'upsert'
      ? {
          id: key,
          name: `${key} @${id}`,
          description: null,
          done: false,
          created_at: null,
          updated_at: null,
        }
      : undefined;
  return { op, entity: 'todo', key, id, position: `${offset + 1}-0`, record, capturedAt: 1 };
}

function batch(events: SinkEvent[]): PartitionBatch {
  return { entity: 'todo', partition: 0, events, offset: events.at(-1)!.position! };
}

test('MongoDB sink fed positions that are not versions: offsets are positions, documents keep versions, a late batch changes nothing', {
  timeout: 60_000,
}, async () => {
  const t = await createTestMongo('mongo_positions');
  const sink = new MongoSink({ url: t.url, name: 'kafka', serverSelectionTimeoutMS: 3_000 });
  try {
    await sink.connect();
    await sink.ensureTargets([{ entity: 'todo', schema: todo, keyField: 'id' }]);
    const first = batch([
      // Source partition 1's event comes first in Kafka, with the higher version.
      event('upsert', 'a', '1700000000009-0', 0),
      event('upsert', 'b', '1700000000001-0', 1),
    ]);
    await sink.apply([first]);
    await sink.apply([batch([event('delete', 'a', '1700000000010-0', 2)])]);
    assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '3-0']]));
    // A former owner applies its batch again, late: the tombstone's newer version keeps `a`
    // deleted, and the stored offset does not move back.
    await sink.apply([first]);
    assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '3-0']]));
    const docs = await t.db.collection('todo').find().sort({ _id: 1 }).toArray();
    assert.deepEqual(
      docs.map((d) => [d._id, d._v, d._deleted]),
      [
        ['a', encodeVersion('1700000000010-0'), true],
        ['b', encodeVersion('1700000000001-0'), false],
      ],
    );
    // Offset 10 is past offset 9 as a position, though `10-0` < `9-0` as text: stored encoded.
    await sink.apply([batch([event('upsert', 'c', '1700000000002-0', 9)])]);
    await sink.apply([batch([event('upsert', 'c', '1700000000003-0', 8)])]);
    assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '10-0']]));
  } finally {
    await sink.close();
    await t.cleanup();
  }
});
