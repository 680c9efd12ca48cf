import type { ChainableCommander, Redis } from 'ioredis';
import { defineCommands } from '../../commands/index.ts';
import { consumerGroups } from '../../consumer-groups.ts';
import type { Keys } from '../../keys.ts';
import { type PartitionLag, partitionLag } from '../../lag.ts';
import type { PartitionRef } from '../../partition-id.ts';
import { isBusyGroup } from '../../redis-errors.ts';
import { streamEntries } from '../../resp/stream-entries.ts';
import { StreamReadConnection } from '../../resp/stream-read-connection.ts';
import { compareStreamIds, ZERO_ID } from '../../stream-id.ts';
import { moveGroupBack } from '../move-group-back.ts';
import type {
  Acknowledgement,
  EventSource,
  ReadPosition,
  SourceBatch,
  SourceRead,
  Takeover,
} from './event-source.ts';
import { LeasedStreamRead } from './leased-stream-read.ts';
import { StreamRead } from './stream-read.ts';

/** How a RedisStreamSource reads. */
export interface RedisStreamSourceOptions {
  /** Commands (groups, claims, acknowledgements); reads get a connection of their own like it. */
  redis: Redis;
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
 * and database) so blocking reads never hold up commands, and their replies stay one buffer.
 *
 * Every read and claim through the group is made only while this instance holds the
 * partition's lease: reads in a transaction that runs only if the leases it saw as this
 * instance's did not change (`LeasedStreamRead`), claims in a script that checks the lease
 * (claim-leased-2.lua). An instance paused past its lease would otherwise, on resuming, take
 * entries into its own pending list that the new owner never reads. A wait for new entries is
 * a plain XREAD BLOCK, which delivers nothing to the group, followed by a checked read.
 */
export class RedisStreamSource implements EventSource {
  private readonly reader: StreamReadConnection;
  private readonly leased: LeasedStreamRead;

  constructor(private readonly options: RedisStreamSourceOptions) {
    this.reader = StreamReadConnection.like(options.redis);
    this.leased = new LeasedStreamRead(this.reader, options.group, options.consumer);
    defineCommands(options.redis);
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

  async read(partitions: readonly ReadPosition[]): Promise<SourceBatch> {
    const behind = partitions.filter((p) => !p.offsets.caughtUp);
    if (behind.length > 0) {
      // This consumer's own pending entries first, in order, without blocking.
      const batch = await this.readGroup(
        behind,
        behind.map((p) => p.offsets.cursor),
      );
      for (const position of behind) {
        // A refused partition read nothing: where it stood does not matter, it is dropped.
        if (batch.refused.includes(position.ref)) continue;
        position.offsets.pendingRead(batch.reads.find((r) => r.ref === position.ref)?.ids ?? []);
      }
      return { reads: batch.reads, refused: batch.refused };
    }
    const cursors = partitions.map(() => NEW_ENTRIES);
    const batch = await this.readGroup(partitions, cursors);
    // A refused partition is reported at once (not after a wait) so the runner drops it.
    if (batch.reads.length > 0 || batch.refused.length > 0 || batch.waitFrom.length === 0)
      return { reads: batch.reads, refused: batch.refused };
    // Nothing new anywhere: wait without reading through the group (a blocking XREADGROUP
    // would deliver whatever arrives to this consumer whether or not it still holds the
    // leases by then), from each group's last-delivered id so nothing added meanwhile is
    // missed.
    const { waitFrom } = batch;
    const { blockMs } = this.options;
    const streams = waitFrom.map((position) => this.stream(position.ref));
    const from = await this.leased.waitPoints(streams, blockMs + READ_TIMEOUT_MARGIN_MS);
    const woken = await this.reader.command(
      ['XREAD', 'COUNT', 1, 'BLOCK', blockMs, 'STREAMS', ...streams, ...from],
      blockMs + READ_TIMEOUT_MARGIN_MS,
    );
    if (streamEntries(woken).length === 0) return { reads: [], refused: [] };
    const again = await this.readGroup(
      waitFrom,
      waitFrom.map(() => NEW_ENTRIES),
    );
    return { reads: again.reads, refused: again.refused };
  }

  /**
   * One lease-checked XREADGROUP per partition from these cursors, never blocking. Besides the
   * reads: the partitions refused (lease gone) and those whose read of new entries found none
   * (where to wait for more).
   */
  private async readGroup(
    partitions: readonly ReadPosition[],
    cursors: readonly string[],
  ): Promise<GroupRead> {
    const { blockMs, batchSize } = this.options;
    // batchSize bounds a whole batch (and so memory), shared out over the streams read.
    const count = Math.max(1, Math.ceil(batchSize / partitions.length));
    const results = await this.leased.read(
      partitions.map((p, i) => ({
        stream: this.stream(p.ref),
        lease: this.lease(p.ref),
        cursor: cursors[i]!,
      })),
      count,
      // A reply that does not come well after the block time means a dead connection.
      blockMs + READ_TIMEOUT_MARGIN_MS,
    );
    const reads: SourceRead[] = [];
    const refused: PartitionRef[] = [];
    const waitFrom: ReadPosition[] = [];
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      const position = partitions[i]!;
      if (result.kind === 'refused') refused.push(position.ref);
      else if (result.kind === 'nothing-new') waitFrom.push(position);
      else if (result.entries) reads.push(new StreamRead(position.ref, result.entries));
    }
    return { reads, refused, waitFrom };
  }

  async acknowledge(acks: readonly Acknowledgement[]): Promise<void> {
    const pipeline = this.options.redis.pipeline();
    this.queueAcknowledge(pipeline, acks);
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }

  queueAcknowledge(pipeline: ChainableCommander, acks: readonly Acknowledgement[]): void {
    // Strings, not the ids' buffers as read: one Buffer argument switches ioredis to building
    // the whole command from buffers, which costs more than writing one string.
    for (const { ref, ids } of acks) pipeline.xack(this.stream(ref), this.options.group, ...ids);
  }

  async rewind(ref: PartitionRef, from: string): Promise<number> {
    return moveGroupBack(this.options.redis, this.stream(ref), this.options.group, from);
  }

  async lag(ref: PartitionRef, applied: string): Promise<PartitionLag | undefined> {
    const stream = this.stream(ref);
    const group = (await consumerGroups(this.options.redis, stream)).find(
      (g) => g.name === this.options.group,
    );
    return group && partitionLag(this.options.redis, stream, group, applied);
  }

  close(): void {
    this.reader.close();
  }
}

/** How much longer than its block time a read may take before its connection counts as dead. */
const READ_TIMEOUT_MARGIN_MS = 30_000;

/** Most pending entries claimed per step at takeover. */
const CLAIM_COUNT = 1000;

/** XREADGROUP's id for entries never delivered to the group. */
const NEW_ENTRIES = '>';

/** A lease-checked read of several partitions. */
interface GroupRead extends SourceBatch {
  /** Partitions where a read of new entries found none. */
  readonly waitFrom: readonly ReadPosition[];
}
