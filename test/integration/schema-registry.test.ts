import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCapture } from '../../runtime/capture/capture.ts';
import { SchemaCompatibilityError } from '../../runtime/errors/schema-compatibility-error.ts';
import { Keys } from '../../runtime/keys.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { createTestRedisClient, testRedisOptions } from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { readLog } from '../support/log-checker.ts';

const todoV1 = schemaFile('todo') as unknown as { type: 'record'; name: string; fields: object[] };
const todoV2 = {
  ...todoV1,
  fields: [...todoV1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
} as unknown as AvroSchema;

describe('schema registry in real Redis', () => {
  let ctx: Awaited<ReturnType<typeof createTestRedisClient>>;
  let registry: SchemaRegistry;
  let prefix: string;

  before(async () => {
    ctx = await createTestRedisClient('registry');
    prefix = ctx.capturePrefix;
    registry = new SchemaRegistry(ctx.redis, new Keys(prefix));
  });

  after(async () => ctx.cleanup());

  test('registering returns an id, a version and the Avro fingerprint; re-registering is a no-op', async () => {
    const v1 = await registry.register('todo', todoV1 as unknown as AvroSchema);
    assert.equal(v1.version, 1);
    assert.match(v1.fingerprint, /^[0-9a-f]{64}$/);
    const again = await registry.register('todo', todoV1 as unknown as AvroSchema);
    assert.equal(again.id, v1.id);
    assert.equal((await registry.versions('todo')).length, 1);
  });

  test('a version that is not backward compatible is refused and not stored', async () => {
    const breaking = {
      ...todoV1,
      fields: [...todoV1.fields, { name: 'owner', type: 'string' }],
    } as unknown as AvroSchema;
    await assert.rejects(registry.register('todo', breaking), SchemaCompatibilityError);
    assert.equal((await registry.versions('todo')).length, 1);
  });

  test('versions registered at the same time by several writers all land, each checked against the one before', async () => {
    const entity = 'racing';
    const base = { type: 'record', name: 'Racing', fields: [{ name: 'id', type: 'string' }] };
    // Eight writers, each adding its own optional field: all compatible, all racing for "latest".
    const schemas = Array.from({ length: 8 }, (_, i) => ({
      ...base,
      fields: [...base.fields, { name: `f${i}`, type: ['null', 'int'], default: null }],
    })) as unknown as AvroSchema[];
    await registry.register(entity, base as unknown as AvroSchema);
    const registered = await Promise.all(
      schemas.map((schema) =>
        new SchemaRegistry(ctx.redis, new Keys(prefix)).register(entity, schema),
      ),
    );
    const versions = registered.map((r) => r.version).sort((a, b) => a - b);
    assert.deepEqual(versions, [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal((await registry.versions(entity)).length, 9);
  });

  test('v1 events still decode with the v2 reader: the new field takes its default', async () => {
    const writerV1 = await createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: { todo: { schema: todoV1 as unknown as AvroSchema, partitions: 1 } },
    });
    await writerV1.upsert('todo', { id: 'old', name: 'from v1' });
    await writerV1.close();
    const writerV2 = await createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: { todo: { schema: todoV2, partitions: 1 } },
    });
    await writerV2.upsert('todo', { id: 'new', name: 'from v2', priority: 3 });
    await writerV2.close();

    const versions = await registry.versions('todo');
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2],
    );
    const reader = await registry.latest('todo');
    assert.equal(reader.version, 2);
    const events = await readLog(ctx.redis, new Keys(prefix), registry, 'todo', 1);
    const decoded = [];
    for (const [rawId, fields] of await ctx.redis.xrangeBuffer(
      new Keys(prefix).stream('todo', 0),
      '-',
      '+',
    )) {
      const sid = Number(fields[fields.findIndex((f) => f.toString() === 'sid') + 1]);
      const payload = fields[fields.findIndex((f) => f.toString() === 'data') + 1]!;
      const resolver = await registry.resolver(sid, reader);
      decoded.push({
        id: rawId.toString(),
        sid,
        value: { ...(reader.type.fromBuffer(payload, resolver) as object) } as Record<
          string,
          unknown
        >,
      });
    }
    assert.equal(events.length, 2);
    assert.deepEqual(
      decoded.map((d) => d.sid),
      [versions[0]!.id, versions[1]!.id],
    );
    assert.equal(decoded[0]!.value.priority, null);
    assert.equal(decoded[0]!.value.name, 'from v1');
    assert.equal(decoded[1]!.value.priority, 3);
  });
});
