import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { readTopicToEnd } from '../../../runtime/kafka/read-topic-to-end.ts';
import { parseOffsetRecord } from './offset-record.ts';
import { createTopicIfMissing } from './topic-creation.ts';

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
  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly options: OffsetsTopicOptions,
    private readonly logger: Logger | undefined,
  ) {}

  get topic(): string {
    return this.options.topic;
  }

  /**
   * Creates the topic if it is missing: one partition (a few records per batch, read whole at
   * takeover), compacted (the last offset of each key is all that matters). Segments roll every
   * hour so compaction can reclaim the offsets written meanwhile; the active segment is never
   * compacted.
   */
  async ensure(): Promise<void> {
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
  }

  /**
   * Every partition's offset committed by this bridge, keyed by partition id. Reads from the
   * start up to the last stable offset of each partition of the topic, as they are when the
   * read starts: everything committed by then. Each call reads anew (never sharing a read that
   * began earlier), since its caller may have just fenced a producer whose last commit an
   * earlier read could have missed.
   */
  async read(): Promise<Map<string, string>> {
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
}
