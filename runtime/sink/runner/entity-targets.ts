import type { Logger } from 'pino';
import { EntityMetadataStore } from '../../capture/entity-metadata.ts';
import type { Keys } from '../../keys.ts';
import type { PartitionRef } from '../../partition-id.ts';
import type { RedisClient } from '../../redis-client.ts';
import type { RegisteredSchema, SchemaRegistry } from '../../schema/schema-registry.ts';
import type { EntityTarget, Sink } from '../sink.ts';
import type { EventSource } from '../source/event-source.ts';
import type { Epoch } from './epoch.ts';
import type { TransientRetry } from './transient-retry.ts';

/**
 * The entities a sink consumes, each with its reader schema, and every partition of them (as
 * many as the capture pinned, or as the source says it has). Found at start and again on every
 * heartbeat (a sink started before the capture, or a new entity, is picked up without a
 * restart); a newer writer schema seen in a read evolves the targets first.
 */
export class EntityTargets {
  private readonly targets = new Map<string, EntityTarget>();
  private readonly refs: PartitionRef[] = [];
  /** Whether the source's `start` has succeeded. */
  private started = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly registry: SchemaRegistry,
    private readonly sink: Sink,
    private readonly source: EventSource,
    /** Entities asked for; undefined: every entity the capture has pinned. */
    private readonly entities: readonly string[] | undefined,
    private readonly epoch: Epoch,
    private readonly logger: Logger | undefined,
  ) {}

  get(entity: string): EntityTarget | undefined {
    return this.targets.get(entity);
  }

  /** Every partition of the entities consumed. */
  get partitions(): readonly PartitionRef[] {
    return this.refs;
  }

  /**
   * Adds the entities that exist now and were not consumed yet: their partitions become
   * readable (consumer groups), then their targets are ensured. A partition is only taken once
   * its table or collection exists.
   */
  async discover(): Promise<void> {
    if (!this.started) {
      await this.source.start?.();
      this.started = true;
    }
    const metadata = await new EntityMetadataStore(this.redis, this.keys).all();
    const wanted = this.entities ?? [...metadata.keys()].sort();
    const added: EntityTarget[] = [];
    const refs: PartitionRef[] = [];
    for (const entity of wanted) {
      const meta = metadata.get(entity);
      if (this.targets.has(entity) || !meta) continue;
      // A source of its own partitions (Kafka topics) says how many; else they are the streams.
      const partitions = this.source.partitionCount
        ? await this.source.partitionCount(entity)
        : meta.partitions;
      if (partitions === undefined) continue;
      added.push({ entity, schema: await this.registry.latest(entity), keyField: meta.keyField });
      for (let p = 0; p < partitions; p++) refs.push({ entity, partition: p });
    }
    if (added.length === 0) return;
    await this.source.open(refs);
    await this.sink.ensureTargets([...this.targets.values(), ...added]);
    for (const target of added) this.targets.set(target.entity, target);
    this.refs.push(...refs);
    this.logger?.info({ entities: added.map((t) => t.entity) }, 'consuming entities');
  }

  /**
   * A read held events written with these schemas: one newer than its entity's reader means
   * the targets may need new columns before they are applied. Plans made meanwhile are stale.
   */
  async evolveFor(schemaIds: ReadonlySet<number>, retry: TransientRetry): Promise<void> {
    const newer: EntityTarget[] = [];
    for (const id of schemaIds) {
      const writer: RegisteredSchema | undefined = await this.registry
        .get(id)
        .catch(() => undefined);
      const target = writer && this.targets.get(writer.entity);
      if (target && writer.version > target.schema.version && !newer.includes(target))
        newer.push(target);
    }
    if (newer.length === 0) return;
    await this.epoch.during(async () => {
      for (const target of newer) target.schema = await this.registry.latest(target.entity);
      await retry.run(() => this.sink.ensureTargets([...this.targets.values()]));
    });
  }
}
