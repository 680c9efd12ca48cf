import type { Redis } from 'ioredis';
import { consumerGroups } from '../../consumer-groups.ts';
import type { Keys } from '../../keys.ts';
import { type PartitionLag, partitionLag } from '../../lag.ts';
import type { PartitionRef } from '../../partition-id.ts';
import { isBusyGroup } from '../../redis-errors.ts';
import { type StreamEntries, streamEntries } from '../../resp/stream-entries.ts';
import { StreamReadConnection } from '../../resp/stream-read-connection.ts';
import { compareStreamIds, ZERO_ID } from '../../stream-id.ts';
import { moveGroupBack } from '../move-group-back.ts';
import type {
  Acknowledgement,
  EventSource,
  ReadPosition,
  SourceRead,
  Takeover,
} from './event-source.ts';
import { StreamRead } from './stream-read.ts';

/** How a RedisStreamSource reads. */
export interface RedisStreamSourceOptions {
  /** Commands (groups, claims, acknowledgements); reads get a connection of their own like it. */
  redis: Redis;
  keys: Keys;
  /** The consumer group: the sink's name. */
  group: string;
  /** This instance's consumer name in the group. */
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
 */
export class RedisStreamSource implements EventSource {
  private readonly reader: StreamReadConnection;

  constructor(private readonly options: RedisStreamSourceOptions) {
    this.reader = StreamReadConnection.like(options.redis);
  }

  private stream(ref: PartitionRef): string {
    return this.options.keys.stream(ref.entity, ref.partition);
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

  async take(ref: PartitionRef, committed: string): Promise<Takeover> {
    const { redis, group, consumer } = this.options;
    const stream = this.stream(ref);
    // Whatever earlier owners left pending is this consumer's now: it holds the lease.
    let cursor = ZERO_ID;
    let reclaimed = 0;
    do {
      const [next, ids] = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        0,
        cursor,
        'COUNT',
        1000,
        'JUSTID',
      )) as [string, string[]];
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

  async read(partitions: readonly ReadPosition[]): Promise<SourceRead[]> {
    const behind = partitions.filter((p) => !p.offsets.caughtUp);
    if (behind.length > 0) {
      // This consumer's own pending entries first, in order, without blocking.
      const reads = await this.readGroup(
        behind,
        behind.map((p) => p.offsets.cursor),
        false,
      );
      for (const position of behind)
        position.offsets.pendingRead(reads.find((r) => r.ref === position.ref)?.ids ?? []);
      return reads;
    }
    return this.readGroup(
      partitions,
      partitions.map(() => '>'),
      true,
    );
  }

  /** One XREADGROUP over these partitions from these cursors, blocking or not. */
  private async readGroup(
    partitions: readonly ReadPosition[],
    cursors: readonly string[],
    block: boolean,
  ): Promise<StreamRead[]> {
    const { blockMs, batchSize, group, consumer } = this.options;
    const streams = partitions.map((p) => this.stream(p.ref));
    // batchSize bounds a whole batch (and so memory), shared out over the streams read.
    const count = Math.max(1, Math.ceil(batchSize / streams.length));
    const command = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', count];
    if (block) command.push('BLOCK', blockMs);
    command.push('STREAMS', ...streams, ...cursors);
    // A reply that does not come well after the block time means a dead connection.
    const reply = await this.reader.command(command, blockMs + READ_TIMEOUT_MARGIN_MS);
    return streamEntries(reply).flatMap((entries: StreamEntries) => {
      const at = streams.indexOf(entries.stream);
      return at < 0 ? [] : [new StreamRead(partitions[at]!.ref, entries)];
    });
  }

  async acknowledge(acks: readonly Acknowledgement[]): Promise<void> {
    const pipeline = this.options.redis.pipeline();
    // Strings, not the ids' buffers as read: one Buffer argument switches ioredis to building
    // the whole command from buffers, which costs more than writing one string.
    for (const { ref, ids } of acks) pipeline.xack(this.stream(ref), this.options.group, ...ids);
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
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
