import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';

/**
 * Keeps the writer schemas durable beside the topics: a consumer rebuilding a target from the
 * bridge's topics after Redis lost its data finds every schema id a message carries. The bridge
 * calls `mirror` for each schema id before the first transaction carrying it commits, and again
 * after a restart (it only remembers what it mirrored in memory), so the write must be
 * idempotent. The service's implementation is kafka-schema-mirror.ts.
 */
export interface SchemaMirror {
  /** Called from the sink's `connect`, before any `mirror`. */
  start?(): Promise<void>;
  mirror(schema: RegisteredSchema): Promise<void>;
  /** Called from the sink's `close`. */
  close?(): Promise<void>;
}

/** Mirrors nothing: for a bridge whose schemas need not outlive Redis (tests, embedding). */
export const noSchemaMirror: SchemaMirror = {
  async mirror() {},
};
