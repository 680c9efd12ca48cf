import { type ChainableCommander, Cluster } from 'ioredis';
import { defineCommands } from '../../commands/index.ts';
import { consumerGroups } from '../../consumer-groups.ts';
import type { Keys } from '../../keys.ts';
import { type PartitionLag, partitionLag } from '../../lag.ts';
import { type PartitionRef, partitionIdOf } from '../../partition-id.ts';
import { PartitionPipelines } from '../../partition-pipelines.ts';
import type { RedisClient } from '../../redis-client.ts';
import { clusterMasterOf } from '../../redis-cluster-route.ts';
import { isBusyGroup } from '../../redis-errors.ts';
import { StreamReadConnection } from '../../resp/stream-read-connection.ts';
import { compareStreamIds, ZERO_ID } from '../../stream-id.ts';
import { moveGroupBack } from '../move-group-back.ts';
import { ClusterStreamReads } from './cluster-stream-reads.ts';
import type {
  Acknowledgement,
  EventSource,
  ReadPosition,
  SourceBatch,
  Takeover,
} from './event-source.ts';
import { ServerStreamReads } from './server-stream-reads.ts';
import type { StreamReads, StreamReadsContext } from './stream-reads.ts';

/** How a RedisStreamSource reads. */
export interface RedisStreamSourceOptions {
  /** Commands (groups, claims, acknowledgements); reads get a connection of their own like it. */
  redis: RedisClient;
  keys: Keys;
  /** The consumer group: the sink's name. */
  group: string;
  /** This instance's consumer name in the group, and the value of the leases it holds. */
  consumer: string;
  /** Most entries per read, over all the partitions read. */
  batchSize: number;
  /** How long a read of new entries waits for some, ms. */
  blockMs: number;
  /** Told when a group was moved back to a target's offset at takeover. */
  onGroupMovedBack?: (info: { stream: string; from: string; to: string; entries: number }) => void;
}

/**
 * The partition streams read through the sink's consumer group: XREADGROUP over the owned
 * streams, XACK, XAUTOCLAIM and XPENDING at takeover, XGROUP SETID (with ENTRIESREAD) to move
 * back. Reads go over a connection of their own (`StreamReadConnection`: same server, user, TLS
 * and database) so blocking reads never hold up commands, and their replies stay one buffer; on
 * a Redis Cluster, over a connection per partition to its slot's master (`ClusterStreamReads`).
 * Commands of several partitions are pipelined per partition there (`PartitionPipelines`).
 *
 * Every read and claim through the group is made only while this instance holds the
 * partition's lease: reads in a transaction that runs only if the leases it saw as this
 * instance's did not change (`LeasedStreamRead`), claims in a script that checks the lease
 * (claim-leased-2.lua). An instance paused past its lease would otherwise, on resuming, take
 * entries into its own pending list that the new owner never reads. A wait for new entries is
 * a plain XREAD BLOCK, which delivers nothing to the group, followed by a checked read.
 */
export class RedisStreamSource implements EventSource {
  private readonly reads: StreamReads;

  constructor(private readonly options: RedisStreamSourceOptions) {
    const { redis, group, consumer, batchSize, blockMs } = options;
    const context: StreamReadsContext = {
      group,
      consumer,
      batchSize,
      blockMs,
      stream: (ref) => this.stream(ref),
      lease: (ref) => this.lease(ref),
    };
    this.reads =
      redis instanceof Cluster
        ? new ClusterStreamReads(redis, context)
        : new ServerStreamReads(StreamReadConnection.like(redis), context);
    defineCommands(redis);
  }

  private stream(ref: PartitionRef): string {
    return this.options.keys.stream(ref.entity, ref.partition);
  }

  private lease(ref: PartitionRef): string {
    return this.options.keys.lease(ref.entity, ref.partition, this.options.group);
  }

  async open(partitions: readonly PartitionRef[]): Promise<void> {
    for (const ref of partitions) {
      // Created at 0 so a new sink reads the whole log. Its position is otherwise irrelevant:
      // offsets live in the target.
      await this.options.redis
        .xgroup('CREATE', this.stream(ref), this.options.group, '0', 'MKSTREAM')
        .catch((err: unknown) => {
          if (!isBusyGroup(err)) throw err;
        });
    }
  }

  async take(ref: PartitionRef, committed: string): Promise<Takeover | undefined> {
    const { redis, group, consumer } = this.options;
    const stream = this.stream(ref);
    const lease = this.lease(ref);
    // Whatever earlier owners left pending is this consumer's now: it holds the lease. Each
    // step checks that it still does, or it would take the pending entries of the owner after
    // it (which reads only its own) if it paused past its lease since winning it.
    let cursor = ZERO_ID;
    let reclaimed = 0;
    do {
      const claimed = await redis.claimLeased(
        lease,
        stream,
        consumer,
        group,
        consumer,
        cursor,
        CLAIM_COUNT,
      );
      if (claimed === 0) return undefined;
      const [next, ids] = claimed;
      reclaimed += ids.length;
      cursor = next;
    } while (cursor !== ZERO_ID);
    const deliveries = new Map<string, number>();
    const pending = (await redis.xpending(stream, group, '-', '+', 10_000, consumer)) as Array<
      [string, string, number, number]
    >;
    for (const [id, , , count] of pending) deliveries.set(id, count);
    await this.moveBackTo(stream, committed);
    this.reads.moved(ref);
    return { deliveries, reclaimed };
  }

  /**
   * The target's offset is the truth, not the group's position: when the target is behind what
   * the group has delivered (restored from an older backup, dropped, offsets deleted), the group
   * goes back so the gap is read again. Safe because this instance holds the partition's lease;
   * entries it already applied are skipped by offset.
   */
  private async moveBackTo(stream: string, committed: string): Promise<void> {
    const { redis, group } = this.options;
    const info = (await consumerGroups(redis, stream)).find((g) => g.name === group);
    const delivered = info?.lastDelivered ?? ZERO_ID;
    if (compareStreamIds(committed, delivered) >= 0) return;
    const entries = await moveGroupBack(redis, stream, group, committed);
    this.options.onGroupMovedBack?.({ stream, from: delivered, to: committed, entries });
  }

  read(partitions: readonly ReadPosition[]): Promise<SourceBatch> {
    return this.reads.read(partitions);
  }

  async acknowledge(acks: readonly Acknowledgement[]): Promise<void> {
    const pipelines = new PartitionPipelines(this.options.redis);
    for (const ack of acks) this.queueAcknowledge(pipelines.of(partitionIdOf(ack.ref)), [ack]);
    for (const [err] of await pipelines.exec()) if (err) throw err;
  }

  queueAcknowledge(pipeline: ChainableCommander, acks: readonly Acknowledgement[]): void {
    // Strings, not the ids' buffers as read: one Buffer argument switches ioredis to building
    // the whole command from buffers, which costs more than writing one string.
    for (const { ref, ids } of acks) pipeline.xack(this.stream(ref), this.options.group, ...ids);
  }

  async rewind(ref: PartitionRef, from: string): Promise<number> {
    const entries = await moveGroupBack(
      this.options.redis,
      this.stream(ref),
      this.options.group,
      from,
    );
    this.reads.moved(ref);
    return entries;
  }

  async lag(ref: PartitionRef, applied: string): Promise<PartitionLag | undefined> {
    const stream = this.stream(ref);
    const group = (await consumerGroups(this.options.redis, stream)).find(
      (g) => g.name === this.options.group,
    );
    return group && partitionLag(this.options.redis, stream, group, applied);
  }

  location(ref: PartitionRef): string | undefined {
    const { redis } = this.options;
    if (redis instanceof Cluster) return clusterMasterOf(redis, this.stream(ref))?.address;
    return redis.options.path ?? `${redis.options.host}:${redis.options.port}`;
  }

  close(): void {
    this.reads.close();
  }
}

/** Most pending entries claimed per step at takeover. */
const CLAIM_COUNT = 1000;
