import type { Admin, Kafka } from 'kafkajs';
import { nextOffsetAfter } from '../sink/source/kafka-position.ts';
import { type OffsetRange, readCommittedRanges } from './committed-records.ts';

/** A sink that reads Kafka, as `cdc lag` asks about it. */
export interface KafkaFedSinkQuery {
  sink: string;
  /** Entity → topic it reads. */
  topics: ReadonlyMap<string, string>;
  /** The position it applied in a partition of the entity's topic (`<next offset>-0`). */
  applied(entity: string, partition: number): Promise<string>;
}

/** A Kafka bridge, as `cdc lag` asks about it. */
export interface BridgeQuery {
  sink: string;
  /** Entity → topic it produces to. */
  topics: ReadonlyMap<string, string>;
}

/** How far a Kafka-fed sink is behind in one partition of a topic. */
export interface KafkaPartitionLag {
  sink: string;
  entity: string;
  topic: string;
  partition: number;
  /** Its applied position, `<next offset>-0`. */
  applied: string;
  /** The partition's last stable offset: as far as a read_committed consumer can read. */
  end: bigint;
  /**
   * Committed records between the applied position and the end, counted by reading them.
   * Undefined when not counted (more offsets than the limit, or the read did not finish) or when
   * the applied position lies beyond the end (not a Kafka position: the sink reads nothing).
   */
  behind: number | undefined;
  /** Offsets between the applied position and the end: markers and aborted records included. */
  offsetsToEnd: number;
}

/** What a bridge produced to one partition of a topic. */
export interface BridgeTopicPartition {
  sink: string;
  entity: string;
  topic: string;
  partition: number;
  /** The partition's last stable offset. */
  end: bigint;
  /**
   * Offset of the last committed record: what the bridge's `cdc_bridge_produced_offset` metric
   * says. Null when the partition holds none; undefined when not found (not within the last
   * `tailOffsets` offsets, or the read did not finish).
   */
  lastProduced: bigint | null | undefined;
}

export interface KafkaLagLimits {
  /** Most offsets counted per partition for a sink's lag (beyond: unknown). */
  countLimit: number;
  /** How far back from the end the last record of a bridge's partition is looked for. */
  tailOffsets: number;
  /** Longest wait for all those reads, ms. */
  readTimeoutMs: number;
}

export const DEFAULT_KAFKA_LAG_LIMITS: KafkaLagLimits = {
  countLimit: 100_000,
  tailOffsets: 10_000,
  readTimeoutMs: 15_000,
};

/**
 * The Kafka figures of `cdc lag`: per partition of each Kafka-fed sink's topics, where it stands
 * against the last stable offset, and per partition of each bridge's topics, its end and last
 * record. Both need reading (one consumer group for all): on a transactional topic the end lies
 * past a marker, so an offset difference never reaches 0 and says nothing of the last record.
 * A topic that does not exist has no partitions to report. Throws what kafkajs throws when the
 * brokers cannot be reached (the caller says Kafka figures are unavailable).
 */
export async function kafkaLag(
  kafka: Kafka,
  admin: Admin,
  query: { sinks: readonly KafkaFedSinkQuery[]; bridges: readonly BridgeQuery[] },
  limits: KafkaLagLimits = DEFAULT_KAFKA_LAG_LIMITS,
): Promise<{ sinks: KafkaPartitionLag[]; bridges: BridgeTopicPartition[] }> {
  const wanted = new Set<string>();
  for (const q of [...query.sinks, ...query.bridges])
    for (const topic of q.topics.values()) wanted.add(topic);
  const existing = new Set(await admin.listTopics());
  const offsets = new Map<string, Array<{ partition: number; end: bigint; low: bigint }>>();
  for (const topic of wanted) {
    if (!existing.has(topic)) continue;
    const listed = await admin.fetchTopicOffsets(topic);
    offsets.set(
      topic,
      listed
        .map((o) => ({ partition: o.partition, end: BigInt(o.offset), low: BigInt(o.low) }))
        .sort((a, b) => a.partition - b.partition),
    );
  }

  const ranges: OffsetRange[] = [];
  const sinks: Array<KafkaPartitionLag & { range?: number }> = [];
  for (const q of query.sinks)
    for (const [entity, topic] of q.topics)
      for (const { partition, end, low } of offsets.get(topic) ?? []) {
        const applied = await q.applied(entity, partition);
        const next = nextOffsetAfter(applied);
        // Records below the low offset are gone (retention): the sink reads from there on.
        const from = later(next, low);
        const row: KafkaPartitionLag & { range?: number } = {
          sink: q.sink,
          entity,
          topic,
          partition,
          applied,
          end,
          behind: undefined,
          offsetsToEnd: end > next ? Number(end - next) : 0,
        };
        if (next <= end && end - from <= BigInt(limits.countLimit)) {
          row.range = ranges.length;
          ranges.push({ topic, partition, from, to: end });
        }
        sinks.push(row);
      }
  const bridges: Array<BridgeTopicPartition & { range: number; whole: boolean }> = [];
  for (const q of query.bridges)
    for (const [entity, topic] of q.topics)
      for (const { partition, end, low } of offsets.get(topic) ?? []) {
        const from = later(end - BigInt(limits.tailOffsets), low);
        bridges.push({
          sink: q.sink,
          entity,
          topic,
          partition,
          end,
          lastProduced: undefined,
          range: ranges.length,
          whole: from <= low,
        });
        ranges.push({ topic, partition, from, to: end });
      }

  const read =
    ranges.length > 0 ? await readCommittedRanges(kafka, ranges, limits.readTimeoutMs) : [];
  return {
    sinks: sinks.map(({ range, ...row }) => ({
      ...row,
      behind: range === undefined ? undefined : read[range]?.records,
    })),
    bridges: bridges.map(({ range, whole, ...row }) => {
      const found = read[range];
      // Nothing committed in a read of the whole partition: none, not unknown.
      const lastProduced = found?.last ?? (found && whole ? null : undefined);
      return { ...row, lastProduced };
    }),
  };
}

/** The larger of two offsets (Math.max takes no bigints). */
function later(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
