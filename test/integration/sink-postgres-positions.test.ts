import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { fingerprintOf, parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import type { PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

// Read from Kafka, an event's position (its offset, as `<next offset>-0`) is not its version
// (the stream id it was captured with). The stored offsets are positions, so the fence against
// a late former owner must compare positions: compared with versions, which are far larger, no
// event would ever be fenced off.

const type = parseSchema(schemaFile('todo'));
const todo: RegisteredSchema = {
  id: 1,
  entity: 'todo',
  version: 1,
  fingerprint: fingerprintOf(type),
  schema: JSON.stringify(type.schema()),
  type,
};

/** An event of `key` with version `id`, read at Kafka offset `offset` (position `offset+1`-0). */
function event(
  op: 'upsert' | 'delete',
  key: string,
  id: string,
  offset: number,
  path: 'payload' | 'record',
): SinkEvent {
  const record =
    op === 'upsert'
      ? {
          id: key,
          name: `${key} at ${id}`,
          description: null,
          done: false,
          created_at: null,
          updated_at: null,
        }
      : undefined;
  const base = { op, entity: 'todo', key, id, position: `${offset + 1}-0`, capturedAt: 1 };
  if (!record) return { ...base, record: undefined };
  if (path === 'record') return { ...base, record };
  return { ...base, record, writer: todo, payload: type.toBuffer(record) };
}

function batch(events: SinkEvent[]): PartitionBatch {
  return { entity: 'todo', partition: 0, events, offset: events.at(-1)!.position! };
}

for (const path of ['payload', 'record'] as const) {
  describe(`PostgreSQL sink fed positions that are not versions (${path}s)`, () => {
    let db: TestPostgres;
    let sink: PostgresSink;

    before(async () => {
      db = await createTestPostgres(`pgpos_${path}`);
      sink = new PostgresSink({ url: db.url, name: 'kafka', schema: db.schema });
      await sink.connect();
      await sink.ensureTargets([{ entity: 'todo', schema: todo, keyField: 'id' }]);
    });

    after(async () => {
      await sink.close();
      await db.cleanup();
    });

    const rows = async () =>
      (
        await db.pool.query<{ id: string; name: string; _cdc_ms: string }>(
          `SELECT id, name, _cdc_ms FROM ${pg.escapeIdentifier(db.schema)}.todo ORDER BY id`,
        )
      ).rows;

    test('offsets store positions, rows versions; a late former owner resurrects nothing', async () => {
      const first = batch([
        event('upsert', 'k1', '1700000000000-0', 0, path),
        event('upsert', 'k2', '1700000000001-0', 1, path),
      ]);
      await sink.apply([first]);
      // The next owner deletes k1 and moves the offset to position 3-0.
      await sink.apply([batch([event('delete', 'k1', '1700000000002-0', 2, path)])]);
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '3-0']]));
      // The former owner wakes up and applies its batch again: at or below the stored offset by
      // position, so nothing of it is written (by version it would be above, and k1 back).
      await sink.apply([first]);
      assert.deepEqual(
        (await rows()).map((r) => [r.id, r._cdc_ms]),
        [['k2', '1700000000001']],
      );
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '3-0']]));
    });

    test('events above the stored offset by position apply, guarded by their versions', async () => {
      await sink.apply([
        batch([
          event('upsert', 'k1', '1700000000003-0', 3, path),
          // An older version of k2 read later (a replay of another source partition's event):
          // the row keeps its newer version.
          event('upsert', 'k2', '1699999999999-0', 4, path),
        ]),
      ]);
      assert.deepEqual(
        (await rows()).map((r) => [r.id, r._cdc_ms]),
        [
          ['k1', '1700000000003'],
          ['k2', '1700000000001'],
        ],
      );
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '5-0']]));
      // A replay moves the offset back by position: the events after it apply again (their
      // versions keep the rows as they are) and the ones after those as usual.
      await sink.rewindOffset('todo', 0, '3-0');
      await sink.apply([
        batch([
          event('upsert', 'k1', '1700000000003-0', 3, path),
          event('upsert', 'k2', '1699999999999-0', 4, path),
          event('delete', 'k1', '1700000000004-0', 5, path),
        ]),
      ]);
      assert.deepEqual(
        (await rows()).map((r) => r.id),
        ['k2'],
      );
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '6-0']]));
    });
  });
}
