import type { Admin, Kafka, Producer } from 'kafkajs';
import type { EntityMetadataStore } from '../../../runtime/capture/entity-metadata.ts';
import { ensureSchemaMirrorTopic, mirrorSchema } from '../../../runtime/kafka/schema-mirror.ts';
import type { RegisteredSchema, SchemaRegistry } from '../../../runtime/schema/schema-registry.ts';
import type { SchemaMirror } from './schema-mirror-hook.ts';

/**
 * The schema mirror of runtime/kafka/schema-mirror.ts (`<prefix>.__schemas`), written by an
 * idempotent producer of its own: the bridge awaits `mirror` before it begins the transaction
 * whose records carry the schema id, so the schema is in Kafka before any of them can be read.
 * A record sent again (after a restart) is harmless: compaction keeps the last of each id.
 */
export class KafkaSchemaMirror implements SchemaMirror {
  private readonly producer: Producer;
  private readonly admin: Admin;

  constructor(
    kafka: Kafka,
    private readonly prefix: string,
    private readonly registry: Pick<SchemaRegistry, 'get' | 'versions'>,
    private readonly metadata: Pick<EntityMetadataStore, 'get'>,
    private readonly replicationFactor = 1,
  ) {
    // One request in flight and each send awaited: kafkajs' idempotent producer can lose
    // messages otherwise (kafkajs #1005).
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.admin = kafka.admin();
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await ensureSchemaMirrorTopic(this.admin, this.prefix, this.replicationFactor);
    await this.producer.connect();
  }

  async mirror(schema: RegisteredSchema): Promise<void> {
    await mirrorSchema(
      this.producer,
      this.prefix,
      this.registry,
      schema.id,
      await this.metadata.get(schema.entity),
    );
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
