import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntityMetadataStore } from '../../runtime/capture/entity-metadata.ts';
import { SchemaMirrorConflictError } from '../../runtime/errors/schema-mirror-conflict-error.ts';
import {
  encodeMirroredSchema,
  ensureSchemaMirrorTopic,
  mirrorSchema,
  schemaMirrorTopic,
} from '../../runtime/kafka/schema-mirror.ts';
import {
  readSchemaMirror,
  restoreSchemaMirror,
} from '../../runtime/kafka/schema-mirror-restore.ts';
import { Keys } from '../../runtime/keys.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { createTestKafka } from '../helpers/kafka.ts';
import { createTestRedis } from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

const todoV1 = schemaFile('todo') as unknown as { fields: object[] };
const todoV2 = {
  ...todoV1,
  fields: [...todoV1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
} as unknown as AvroSchema;
const metadata = { partitions: 4, keyField: 'id' };

test('schemas mirrored in a Kafka transaction are restored into an empty registry with their ids, and capture re-registering them finds them identical', {
  timeout: 120_000,
}, async () => {
  const kafka = await createTestKafka('schema_mirror');
  const source = await createTestRedis('mirror_src');
  const target = await createTestRedis('mirror_dst');
  const taken = await createTestRedis('mirror_taken');
  const prefix = `${kafka.topicPrefix}cdc`;
  const admin = kafka.kafka.admin();
  const producer = kafka.kafka.producer({
    transactionalId: `${prefix}.test`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await admin.connect();
    assert.equal(await ensureSchemaMirrorTopic(admin, prefix), true);
    const [config] = (
      await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: schemaMirrorTopic(prefix), configNames: ['cleanup.policy'] }],
      })
    ).resources;
    assert.equal(config?.configEntries[0]?.configValue, 'compact');

    // The source registry: user first, so todo's ids are not 1 and 2.
    const registry = new SchemaRegistry(source.redis, new Keys(source.capturePrefix));
    const user = await registry.register('user', schemaFile('user'));
    const v1 = await registry.register('todo', todoV1 as unknown as AvroSchema);
    const v2 = await registry.register('todo', todoV2);
    assert.deepEqual([user.id, v1.id, v2.id], [1, 2, 3]);

    await producer.connect();
    const committed = await producer.transaction();
    // v2 alone is asked for: v1 goes with it, since versions are restored in order.
    await mirrorSchema(committed, prefix, registry, v2.id, metadata);
    await committed.commit();
    // A record in an aborted transaction is never seen by a read_committed reader.
    const aborted = await producer.transaction();
    await aborted.send({
      topic: schemaMirrorTopic(prefix),
      messages: [encodeMirroredSchema({ ...v2, id: 99, version: 9, metadata })],
    });
    await aborted.abort();

    const mirrored = await readSchemaMirror(kafka.kafka, admin, prefix, 30_000);
    assert.deepEqual([...mirrored.keys()].sort(), [2, 3]);

    const keys = new Keys(target.capturePrefix);
    const restoredRegistry = new SchemaRegistry(target.redis, keys);
    const result = await restoreSchemaMirror(
      mirrored.values(),
      restoredRegistry,
      target.redis,
      keys,
    );
    assert.deepEqual(result, { restored: [2, 3], entities: ['todo'] });
    assert.deepEqual(await new EntityMetadataStore(target.redis, keys).get('todo'), metadata);
    // Read by a registry that never saw the restore: what is in Redis, not a cache.
    const fresh = new SchemaRegistry(target.redis, keys);
    const back = await fresh.get(3);
    assert.deepEqual(
      { id: back.id, entity: back.entity, version: back.version, fingerprint: back.fingerprint },
      { id: 3, entity: 'todo', version: 2, fingerprint: v2.fingerprint },
    );
    assert.equal((await fresh.latest('todo')).id, 3);

    // Capture registering the same schemas later finds them as they were; a new one follows.
    assert.equal((await fresh.register('todo', todoV1 as unknown as AvroSchema)).id, 2);
    assert.equal((await fresh.register('todo', todoV2)).id, 3);
    const v3 = await fresh.register('todo', {
      ...(todoV2 as object),
      fields: [
        ...(todoV2 as unknown as { fields: object[] }).fields,
        { name: 'tag', type: ['null', 'string'], default: null },
      ],
    } as unknown as AvroSchema);
    assert.deepEqual([v3.id, v3.version], [4, 3]);

    // Restoring again changes nothing.
    assert.deepEqual(await restoreSchemaMirror(mirrored.values(), fresh, target.redis, keys), {
      restored: [],
      entities: [],
    });

    // A registry written to before the restore holds id 2 as another schema: refused, clearly.
    const takenKeys = new Keys(taken.capturePrefix);
    const early = new SchemaRegistry(taken.redis, takenKeys);
    await early.register('user', schemaFile('user'));
    await early.register('note', todoV1 as unknown as AvroSchema);
    await assert.rejects(
      restoreSchemaMirror(mirrored.values(), early, taken.redis, takenKeys),
      (err: unknown) =>
        err instanceof SchemaMirrorConflictError &&
        err.schemaId === 2 &&
        /holds that id with other content/.test(err.message),
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [schemaMirrorTopic(prefix)] }).catch(() => undefined);
    await admin.disconnect();
    await kafka.cleanup();
    await Promise.all([source.cleanup(), target.cleanup(), taken.cleanup()]);
  }
});
