import type { Admin, Kafka } from 'kafkajs';
import { SchemaMirrorConflictError } from '../errors/schema-mirror-conflict-error.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import type { SchemaRegistry } from '../schema/schema-registry.ts';
import { readTopicToEnd } from './read-topic-to-end.ts';
import { decodeMirroredSchema, type MirroredSchema, schemaMirrorTopic } from './schema-mirror.ts';

/**
 * Every schema in the mirror topic, by id (see schema-mirror.ts), as committed when the read
 * began. Throws SchemaMirrorConflictError when two records of one id disagree (two deployments
 * writing one topic, or a registry rebuilt with other ids before the restore): which one the
 * messages mean cannot be told.
 */
export async function readSchemaMirror(
  kafka: Kafka,
  admin: Admin,
  prefix: string,
  timeoutMs: number,
): Promise<Map<number, MirroredSchema>> {
  const mirrored = new Map<number, MirroredSchema>();
  let conflict: SchemaMirrorConflictError | undefined;
  await readTopicToEnd(
    kafka,
    admin,
    schemaMirrorTopic(prefix),
    (message) => {
      const record = decodeMirroredSchema(message);
      if (!record) return;
      const seen = mirrored.get(record.id);
      if (seen && !sameSchema(seen, record))
        conflict ??= new SchemaMirrorConflictError(
          record.id,
          `the schema mirror ${schemaMirrorTopic(prefix)} holds two different schemas with id ${record.id} (${seen.entity} v${seen.version} and ${record.entity} v${record.version}): the ids were handed out twice`,
        );
      mirrored.set(record.id, record);
    },
    timeoutMs,
  );
  if (conflict) throw conflict;
  return mirrored;
}

/** What a restore did. */
export interface SchemaRestoreResult {
  /** Schema ids put back into the registry. */
  restored: number[];
  /** Entities whose metadata was put back. */
  entities: string[];
}

/**
 * Puts every mirrored schema the registry lacks back into it with its original id and version
 * (each entity's versions in order), and the metadata of entities that have none, so that
 * events decode again and a capture that registers the same schemas later finds them as they
 * were (and its partition count and key field pinned as before). What is there already is left
 * alone; anything that contradicts the registry throws SchemaMirrorConflictError (see
 * SchemaRegistry.restore).
 */
export async function restoreSchemaMirror(
  mirrored: Iterable<MirroredSchema>,
  registry: SchemaRegistry,
  redis: RedisClient,
  keys: Keys,
): Promise<SchemaRestoreResult> {
  const ordered = [...mirrored].sort((a, b) =>
    a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.version - b.version,
  );
  const result: SchemaRestoreResult = { restored: [], entities: [] };
  for (const record of ordered) if (await registry.restore(record)) result.restored.push(record.id);
  const latest = new Map<string, MirroredSchema>();
  for (const record of ordered) latest.set(record.entity, record);
  for (const [entity, record] of latest) {
    const { partitions, keyField } = record.metadata;
    // HSETNX: metadata a capture pinned meanwhile is the truth; it only ever matches or refuses.
    const set = await redis.hsetnx(
      keys.entities(),
      entity,
      JSON.stringify({ partitions, keyField }),
    );
    if (set === 1) result.entities.push(entity);
  }
  return result;
}

function sameSchema(a: MirroredSchema, b: MirroredSchema): boolean {
  return a.entity === b.entity && a.version === b.version && a.schema === b.schema;
}
