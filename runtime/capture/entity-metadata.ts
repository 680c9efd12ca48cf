import { ConfigError } from '../errors/config-error.ts';
import { UnknownEntityError } from '../errors/unknown-entity-error.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';

/** What every writer and reader of an entity must agree on. */
export interface EntityMetadata {
  /** Number of partition streams: decides which stream and cache slot a key lives in. */
  partitions: number;
  /** Record field holding the key. */
  keyField: string;
}

/**
 * Entity metadata kept in Redis. The first capture to start pins it; later ones must agree,
 * because changing the partition count would move keys to other streams and break their order.
 * Sinks read it to know which streams to consume.
 */
export class EntityMetadataStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async pin(entity: string, metadata: EntityMetadata): Promise<void> {
    await this.redis.hsetnx(this.keys.entities(), entity, JSON.stringify(metadata));
    const stored = await this.get(entity);
    if (stored.partitions !== metadata.partitions || stored.keyField !== metadata.keyField) {
      throw new ConfigError(
        `${entity} is configured with ${metadata.partitions} partitions and key field "${metadata.keyField}", ` +
          `but the log already uses ${stored.partitions} partitions and key field "${stored.keyField}"; ` +
          'these cannot change once events were written',
      );
    }
  }

  async get(entity: string): Promise<EntityMetadata> {
    const raw = await this.redis.hget(this.keys.entities(), entity);
    if (raw === null) throw new UnknownEntityError(entity);
    return JSON.parse(raw) as EntityMetadata;
  }

  async all(): Promise<Map<string, EntityMetadata>> {
    const raw = await this.redis.hgetall(this.keys.entities());
    return new Map(
      Object.entries(raw).map(([entity, json]) => [entity, JSON.parse(json) as EntityMetadata]),
    );
  }
}
