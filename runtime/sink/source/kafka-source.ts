import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { defaultTopic } from '../../kafka/kafka-message.ts';
import { assertReadCommittedFilterFixed } from '../../kafka/read-committed-check.ts';
import { readSchemaMirror, restoreSchemaMirror } from '../../kafka/schema-mirror-restore.ts';
import type { Keys } from '../../keys.ts';
import type { PartitionLag } from '../../lag.ts';
import { type PartitionRef, partitionIdOf } from '../../partition-id.ts';
import type { RedisClient } from '../../redis-client.ts';
import type { SchemaRegistry } from '../../schema/schema-registry.ts';
import type {
  Acknowledgement,
  EventSource,
  ReadPosition,
  SourceBatch,
  SourceRead,
  Takeover,
} from './event-source.ts';
import { type FeedPartition, KafkaFeed } from './kafka-feed.ts';
import { nextOffsetAfter } from './kafka-position.ts';
import { KafkaRead } from './kafka-read.ts';
import { KafkaSourcedSinks } from './kafka-sourced-sinks.ts';

/** How a KafkaSource reads. */
export interface KafkaSourceOptions {
  /** kafkajs client settings. */
  kafka: KafkaConfig;
  /** The deployment's prefix: topics are `<prefix>.<entity>` unless `topics` says otherwise. */
  prefix: string;
  /** Topic of each entity whose topic is not the default. */
  topics: ReadonlyMap<string, string>;
  /** Commands: the schema registry to restore into, the record of which topics are read. */
  redis: RedisClient;
  keys: Keys;
  registry: SchemaRegistry;
  /** The sink's name and this instance's consumer name (they name its consumer group). */
  sink: string;
  consumer: string;
  /** Most entries per read, over all the partitions read. */
  batchSize: number;
  /** How long a read waits for new entries, ms. */
  blockMs: number;
  /** Messages kept per Kafka partition before fetching it pauses. */
  bufferPerPartition: number;
  /** Longest wait for the schema mirror to be read, ms. */
  schemaMirrorTimeoutMs: number;
  logger: Logger | undefined;
}

/**
 * The entities' Kafka topics as a sink's source, for rebuilding a target when Redis lost its
 * streams: a sink's partitions are its topics' partitions (their counts come from Kafka), a
 * position is a message's offset as `<offset + 1>-0` (kafka-position.ts), an event's version is
 * the stream id it was captured with (the `cdc.stream_id` header), read with read_committed so
 * that what an aborted bridge transaction wrote is never applied.
 *
 * Nothing is committed to Kafka: leases say which instance reads which partition, as for the
 * streams, and the offsets live in the target. Taking a partition (or reading it again after a
 * failed turn, or replaying it) seeks it to the offset after the target's; what was handed out
 * and not applied is read again from there. There is no delivery count, so an entry that crashes
 * the process every time is not dead-lettered by count.
 *
 * At start, every schema of the mirror topic the registry lacks is restored into it with its
 * original id (schema-mirror-restore.ts), with its entity's metadata (key field), so that the
 * messages decode and entities are found as before Redis was lost.
 */
export class KafkaSource implements EventSource {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private adminReady: Promise<void> | undefined;
  private readonly feed: KafkaFeed;
  private readonly partitions = new Map<string, FeedPartition>();
  /** Each topic's end offsets by partition, and when they were listed. */
  private readonly ends = new Map<string, { at: number; offsets: Map<number, bigint> }>();

  constructor(private readonly options: KafkaSourceOptions) {
    // Everything read here is read_committed: kafkajs' filter must drop every aborted record.
    assertReadCommittedFilterFixed();
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...options.kafka });
    this.admin = this.kafka.admin();
    this.feed = new KafkaFeed(this.kafka, {
      // Its own group, per process: kafkajs then assigns it every partition (see KafkaFeed).
      groupId: `${options.prefix}.sink.${options.sink}.${options.consumer}.${randomUUID().slice(0, 8)}`,
      bufferLimit: options.bufferPerPartition,
      // A seek waits for the fetch in flight: keep the broker's wait short (Kafka's default 500).
      maxWaitMs: Math.min(500, options.blockMs),
      logger: options.logger,
    });
  }

  /** The topic an entity is read from. */
  topicOf(entity: string): string {
    return this.options.topics.get(entity) ?? defaultTopic(this.options.prefix, entity);
  }

  /** Restores the schemas the messages name (once, before entities are discovered). */
  async start(): Promise<void> {
    const { registry, redis, keys, prefix, schemaMirrorTimeoutMs, logger } = this.options;
    await this.connected();
    const mirrored = await readSchemaMirror(this.kafka, this.admin, prefix, schemaMirrorTimeoutMs);
    const { restored, entities } = await restoreSchemaMirror(
      mirrored.values(),
      registry,
      redis,
      keys,
    );
    if (restored.length > 0 || entities.length > 0)
      logger?.info({ restored, entities }, 'schemas restored from the Kafka schema mirror');
  }

  /** Partitions of the entity's topic, or undefined while the topic does not exist. */
  async partitionCount(entity: string): Promise<number | undefined> {
    await this.connected();
    const topic = this.topicOf(entity);
    if (!(await this.admin.listTopics()).includes(topic)) return undefined;
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length;
  }

  async open(refs: readonly PartitionRef[]): Promise<void> {
    const topics = new Map<string, string>();
    for (const ref of refs) {
      topics.set(ref.entity, this.topicOf(ref.entity));
      this.partitions.set(
        partitionIdOf(ref),
        this.feed.partition(this.topicOf(ref.entity), ref.partition),
      );
    }
    await new KafkaSourcedSinks(this.options.redis, this.options.keys).record(
      this.options.sink,
      topics,
    );
    await this.feed.subscribe(topics.values());
  }

  async take(ref: PartitionRef, committed: string): Promise<Takeover> {
    const fp = this.partitionOf(ref);
    const next = nextOffsetAfter(committed);
    const end = await this.endOffset(fp, 0);
    if (next > end)
      // Not a Kafka position (the target's offsets were written reading the streams): nothing
      // would ever be read. Replaying the sink from the start sets it right.
      this.options.logger?.error(
        { ...ref, committed, end: String(end) },
        'the stored offset is beyond the end of the Kafka partition; replay this sink from the start (cdc replay --from-start)',
      );
    this.feed.seek(fp, next);
    return { deliveries: new Map(), reclaimed: 0 };
  }

  async read(positions: readonly ReadPosition[]): Promise<SourceBatch> {
    const reading = new Set<FeedPartition>();
    for (const { ref, offsets } of positions) {
      const fp = this.partitionOf(ref);
      reading.add(fp);
      // Taken, or read again after a failed turn: from the offset after the committed one.
      if (!offsets.caughtUp) {
        this.feed.seek(fp, nextOffsetAfter(offsets.committed));
        offsets.pendingRead([]);
      }
    }
    // Partitions not read any more (lost, or handed back) stop being fetched.
    for (const fp of this.partitions.values())
      if (fp.active && !reading.has(fp)) this.feed.release(fp);
    let reads = this.collect(positions);
    if (reads.length === 0) {
      await this.feed.waitFor([...reading], this.options.blockMs);
      reads = this.collect(positions);
    }
    // No lease check: Kafka keeps nothing per reader that a new owner would miss (it seeks to
    // the target's offset), and the runner drops what it read once the lease is gone.
    return { reads, refused: [] };
  }

  /** What the buffers hold for these partitions, the batch size shared out over them. */
  private collect(positions: readonly ReadPosition[]): SourceRead[] {
    const count = Math.max(1, Math.ceil(this.options.batchSize / Math.max(1, positions.length)));
    const reads: SourceRead[] = [];
    for (const { ref } of positions) {
      const fp = this.partitionOf(ref);
      const messages = this.feed.take(fp, count);
      if (messages.length > 0) reads.push(new KafkaRead(ref, fp.topic, fp.partition, messages));
    }
    return reads;
  }

  /** Nothing to do: where the sink is lives in its target, and Kafka keeps no pending entries. */
  async acknowledge(_acks: readonly Acknowledgement[]): Promise<void> {}

  async rewind(ref: PartitionRef, from: string): Promise<number> {
    const fp = this.partitionOf(ref);
    const next = nextOffsetAfter(from);
    this.feed.seek(fp, next);
    const end = await this.endOffset(fp, 0);
    return end > next ? Number(end - next) : 0;
  }

  /**
   * Entries between the applied position and the partition's last stable offset. Transaction
   * markers take offsets too: once everything handed out is applied, what was fetched past it
   * (markers only) counts as done, so a caught-up partition shows 0.
   */
  async lag(ref: PartitionRef, applied: string): Promise<PartitionLag | undefined> {
    const fp = this.partitionOf(ref);
    const end = await this.endOffset(fp);
    let done = nextOffsetAfter(applied);
    if (fp.buffer.length === 0 && fp.next <= done && fp.consumedTo > done) done = fp.consumedTo;
    const oldest = fp.buffer[0];
    return {
      applied,
      behind: end > done ? Number(end - done) : 0,
      pending: 0,
      oldestUnappliedMs: oldest ? Math.max(0, Date.now() - Number(oldest.timestamp)) : 0,
    };
  }

  close(): void {
    this.feed.close();
    void this.admin.disconnect().catch(() => undefined);
  }

  private partitionOf(ref: PartitionRef): FeedPartition {
    const fp = this.partitions.get(partitionIdOf(ref));
    if (!fp) throw new Error(`partition ${partitionIdOf(ref)} was not opened`);
    return fp;
  }

  /**
   * The partition's last stable offset (read_committed: kafkajs' admin lists offsets so). The
   * lag of every owned partition is asked for every second: one listing per topic serves them.
   */
  private async endOffset(fp: FeedPartition, maxAgeMs = END_OFFSETS_MAX_AGE_MS): Promise<bigint> {
    let ends = this.ends.get(fp.topic);
    if (!ends || Date.now() - ends.at > maxAgeMs) {
      await this.connected();
      const offsets = await this.admin.fetchTopicOffsets(fp.topic);
      ends = {
        at: Date.now(),
        offsets: new Map(offsets.map((o) => [o.partition, BigInt(o.offset)])),
      };
      this.ends.set(fp.topic, ends);
    }
    return ends.offsets.get(fp.partition) ?? 0n;
  }

  private connected(): Promise<void> {
    this.adminReady ??= this.admin.connect().catch((err: unknown) => {
      this.adminReady = undefined;
      throw err;
    });
    return this.adminReady;
  }
}

/** How long a listing of a topic's end offsets serves lag, takeovers and replays, ms. */
const END_OFFSETS_MAX_AGE_MS = 500;
