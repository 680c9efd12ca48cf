import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { KafkaUnavailableError } from '../../../runtime/errors/kafka-unavailable-error.ts';
import { createTopicIfMissing } from '../../../runtime/kafka/create-topic.ts';
import { assertReadCommittedFilterFixed } from '../../../runtime/kafka/read-committed-check.ts';
import { readTopicToEnd } from '../../../runtime/kafka/read-topic-to-end.ts';
import { retry } from '../../../runtime/retry.ts';
import { parseOffsetRecord } from './offset-record.ts';

/** Where the offsets topic is and how it is read. */
export interface OffsetsTopicOptions {
  topic: string;
  /** The bridge's name: only its records are read. */
  sink: string;
  replicationFactor: number;
  /** Longest wait for a read to reach the end, ms. */
  readTimeoutMs: number;
}

/**
 * The compacted topic where the bridge keeps, per source partition, the stream id it produced up
 * to, written in the same Kafka transaction as the events (see offset-record.ts). Read with
 * read_committed up to its last stable offset, so an offset is seen exactly when its events are
 * committed.
 */
export class OffsetsTopic {
  /** Appends the read marks: idempotent, one request in flight (kafkajs #1005). */
  private readonly marks: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly options: OffsetsTopicOptions,
    private readonly logger: Logger | undefined,
  ) {
    this.marks = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  get topic(): string {
    return this.options.topic;
  }

  /**
   * Creates the topic if it is missing: one partition (a few records per batch, read whole at
   * takeover), compacted (the last offset of each key is all that matters). Segments roll every
   * hour so compaction can reclaim the offsets written meanwhile; the active segment is never
   * compacted. Then connects the producer of the read marks (see `read`).
   */
  async start(): Promise<void> {
    // The offsets are read read_committed: refuse to start with a kafkajs that lets aborted
    // offset records through (they would fence off events never produced).
    assertReadCommittedFilterFixed();
    const created = await createTopicIfMissing(this.admin, {
      topic: this.options.topic,
      numPartitions: 1,
      replicationFactor: this.options.replicationFactor,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.ms', value: String(60 * 60 * 1000) },
      ],
    });
    if (created) this.logger?.info({ topic: this.options.topic }, 'offsets topic created');
    await this.marks.connect();
  }

  /**
   * Every partition's offset committed by this bridge, keyed by partition id: everything
   * committed before the read began, and every transaction open then, once decided.
   *
   * Reading up to the last stable offset is not enough: a transaction left open (by an instance
   * killed in the middle of it, until the next producer of its partition aborts it) holds the
   * last stable offset below itself, and offsets other partitions committed after it would not
   * be read; a new owner would then produce their events again. So the read first appends a
   * mark, a record outside any transaction, to each partition of the topic, waits until the
   * last stable offset is past it (every transaction begun before it is decided), then reads up
   * to there. Each call reads anew, never sharing a read begun earlier.
   */
  async read(): Promise<Map<string, string>> {
    await this.waitDecided(await this.appendMarks());
    const offsets = new Map<string, string>();
    await readTopicToEnd(
      this.kafka,
      this.admin,
      this.options.topic,
      (message) => {
        const parsed = parseOffsetRecord(this.options.sink, message.key, message.value);
        if (parsed) offsets.set(parsed.partition, parsed.id);
      },
      this.options.readTimeoutMs,
    );
    return offsets;
  }

  async close(): Promise<void> {
    await this.marks.disconnect().catch(() => undefined);
  }

  /** Appends a mark to every partition; returns the offset of each. */
  private async appendMarks(): Promise<Map<number, bigint>> {
    const metadata = await this.admin.fetchTopicMetadata({ topics: [this.options.topic] });
    const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    // Keyed apart from every offset (no partition id parses from it), so compaction keeps one.
    const key = `${this.options.sink}/.read-mark`;
    const written = await this.marks.send({
      topic: this.options.topic,
      acks: -1,
      messages: partitions.map((partition) => ({ key, value: null, partition })),
    });
    return new Map(written.map((r) => [r.partition, BigInt(r.baseOffset ?? '0')]));
  }

  /** Waits until each partition's last stable offset is past its mark. */
  private async waitDecided(marks: ReadonlyMap<number, bigint>): Promise<void> {
    const signal = AbortSignal.timeout(this.options.readTimeoutMs);
    try {
      await retry(
        async () => {
          const ends = await this.admin.fetchTopicOffsets(this.options.topic);
          for (const { partition, offset } of ends) {
            const mark = marks.get(partition);
            if (mark !== undefined && BigInt(offset) <= mark)
              throw new KafkaUnavailableError(
                `a transaction older than the read is still open in ${this.options.topic}/${partition}`,
              );
          }
        },
        {
          backoff: { initialMs: 10, maxMs: 500 },
          signal,
          isRetriable: (error) => error instanceof KafkaUnavailableError,
        },
      );
    } catch (error) {
      if (!signal.aborted) throw error;
      throw new KafkaUnavailableError(
        `transactions open in ${this.options.topic} were not decided within ${this.options.readTimeoutMs} ms (an instance that died in one leaves it open until its partition's next producer starts, or until the transaction timeout)`,
        error,
      );
    }
  }
}
