import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';

/**
 * Keeps the writer schemas durable beside the topics: a consumer rebuilding a target from the
 * bridge's topics after Redis lost its data finds every schema id a message carries. The bridge
 * calls `mirror` for each schema id before the first transaction carrying it commits, and again
 * after a restart (it only remembers what it mirrored in memory), so the write must be
 * idempotent.
 */
export interface SchemaMirror {
  mirror(schema: RegisteredSchema): Promise<void>;
}

/**
 * SCHEMA MIRROR — the place for runtime/kafka/schema-mirror.ts (a compacted `<prefix>.__schemas`
 * topic keyed by schema id). Until it exists, nothing is mirrored: schemas live in Redis only.
 */
export const noSchemaMirror: SchemaMirror = {
  async mirror() {},
};
