import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { KafkaReadError } from '../../errors/kafka-read-error.ts';

/** One Kafka partition of a topic the feed reads, and what it holds of it. */
export interface FeedPartition {
  readonly topic: string;
  readonly partition: number;
  /** Read for this instance (taken, not lost or handed back): only then is it fetched. */
  active: boolean;
  /** Messages fetched and not handed out yet, in offset order. */
  buffer: KafkaMessage[];
  /** The offset after the last message handed out (or where the last seek pointed). */
  next: bigint;
  /** The offset after the last message buffered: a message below it is a repeat. */
  fetched: bigint;
  /** The offset after the last batch fetched, transaction markers included. */
  consumedTo: bigint;
  /** Fetching paused because the buffer is full. */
  full: boolean;
}

/** How a KafkaFeed reads. */
export interface KafkaFeedOptions {
  /** Consumer group id, unique to this process (the feed never commits offsets in it). */
  groupId: string;
  /** Messages buffered per partition before its fetching pauses. */
  bufferLimit: number;
  /** Longest time the broker holds a fetch waiting for data, ms: also how late a seek can take effect. */
  maxWaitMs: number;
  logger: Logger | undefined;
}

/**
 * Turns kafkajs' consumer, which pushes batches, into partitions read on demand. kafkajs has no
 * manual assignment (tulios/kafkajs#373), only consumer groups: the feed's group is its own
 * (a fresh id per process), so it is assigned every partition of its topics; it pauses all of
 * them and fetches only those it is told to read, from the offset it is told (`seek`), never
 * committing an offset (where a sink is lives in its target). Messages wait in a buffer per
 * partition; a full buffer pauses its partition until it is read.
 *
 * kafkajs facts this relies on (2.2.4): `seek` takes effect at the next fetch, and batches
 * fetched before it are marked stale (`isStale`, #367) and dropped here; a batch's last offset is
 * resolved after `eachBatch` returns, so a paused partition resumes after it; pauses and seeks
 * belong to a consumer group generation and are laid again after every join (a rebalance or a
 * restart after a crash starts from the group's offsets, which are none).
 */
export class KafkaFeed {
  /** The consumer started last. */
  private consumer: Consumer | undefined;
  /** It, once it has joined its group: only then does kafkajs take pauses and seeks. */
  private live: Consumer | undefined;
  private starting: Promise<void> | undefined;
  private readonly topics = new Set<string>();
  private readonly partitions = new Map<string, FeedPartition>();
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaFeedOptions,
  ) {}

  /** The partition of a topic, tracked from now on (inactive until sought). */
  partition(topic: string, partition: number): FeedPartition {
    const id = `${topic}|${partition}`;
    let fp = this.partitions.get(id);
    if (!fp) {
      fp = {
        topic,
        partition,
        active: false,
        buffer: [],
        next: 0n,
        fetched: 0n,
        consumedTo: 0n,
        full: false,
      };
      this.partitions.set(id, fp);
    }
    return fp;
  }

  /**
   * Reads these topics too. kafkajs subscribes only before a consumer runs: new topics restart
   * the consumer, and every active partition goes on from where it was handed out up to.
   */
  async subscribe(topics: Iterable<string>): Promise<void> {
    const added = [...topics].filter((t) => !this.topics.has(t));
    for (const topic of added) this.topics.add(topic);
    // Started or starting, with every topic: nothing to do. (A start that failed left none.)
    if (added.length === 0 && this.consumer) return this.starting;
    const previous = this.starting;
    this.starting = (async () => {
      await previous?.catch(() => undefined);
      await this.stopConsumer();
      if (!this.closed) await this.startConsumer();
    })();
    await this.starting;
  }

  /** Reads the partition from `offset` on, dropping what was buffered of it. */
  seek(fp: FeedPartition, offset: bigint): void {
    fp.active = true;
    fp.buffer = [];
    fp.full = false;
    fp.next = offset;
    fp.fetched = offset;
    fp.consumedTo = offset;
    const consumer = this.live;
    if (!consumer) return; // laid when the consumer joins
    const { topic, partition } = fp;
    consumer.resume([{ topic, partitions: [partition] }]);
    consumer.seek({ topic, partition, offset: String(offset) });
  }

  /** Stops reading the partition (lost, or handed back). */
  release(fp: FeedPartition): void {
    fp.active = false;
    fp.buffer = [];
    fp.full = false;
    this.live?.pause([{ topic: fp.topic, partitions: [fp.partition] }]);
  }

  /** Hands out up to `max` buffered messages of the partition. */
  take(fp: FeedPartition, max: number): KafkaMessage[] {
    if (fp.buffer.length === 0) return [];
    const taken = fp.buffer.length <= max ? fp.buffer : fp.buffer.slice(0, max);
    fp.buffer = taken === fp.buffer ? [] : fp.buffer.slice(max);
    fp.next = BigInt(taken.at(-1)!.offset) + 1n;
    if (fp.full && fp.buffer.length < this.options.bufferLimit / 2) {
      fp.full = false;
      this.live?.resume([{ topic: fp.topic, partitions: [fp.partition] }]);
    }
    return taken;
  }

  /**
   * Waits until one of these partitions has messages, at most `ms`. Throws KafkaReadError when
   * the consumer failed for good (it is started again by the next read).
   */
  async waitFor(partitions: readonly FeedPartition[], ms: number): Promise<void> {
    this.throwIfFailed();
    if (partitions.some((fp) => fp.buffer.length > 0)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      const before = this.waiting;
      this.waiting = () => {
        before?.();
        done();
      };
    });
    this.waiting = undefined;
    this.throwIfFailed();
  }

  /** Stops reading; the consumer leaves its group in the background. */
  close(): void {
    this.closed = true;
    this.wake();
    void this.stopConsumer();
  }

  /** A failed consumer is reported once, then the next read starts a new one. */
  private throwIfFailed(): void {
    const failure = this.failure;
    if (!failure) return;
    this.failure = undefined;
    this.starting = undefined;
    if (!this.closed)
      void this.subscribe([]).catch((err: unknown) =>
        this.options.logger?.warn({ err }, 'restarting the Kafka consumer failed'),
      );
    throw new KafkaReadError(`the Kafka consumer stopped: ${failure.message}`, failure);
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  private async startConsumer(): Promise<void> {
    const { groupId, maxWaitMs, logger } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: maxWaitMs,
      // read_committed (kafkajs' default, said here because it matters): the bridge writes in
      // transactions, and an aborted one must never be applied.
      readUncommitted: false,
    });
    consumer.on(consumer.events.GROUP_JOIN, () => this.lay(consumer));
    // Emitted after every fetched batch, also one whose records were all filtered out (commit
    // and abort markers, aborted records), which eachBatch never sees: how far the partition was
    // consumed, for its lag. Only a batch that begins where consumption stood counts (a stale
    // one fetched before a seek back begins beyond it).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (consumer !== this.live) return;
      const fp = this.partitions.get(`${payload.topic}|${payload.partition}`);
      if (!fp?.active || payload.firstOffset === null) return;
      if (BigInt(payload.firstOffset) > fp.consumedTo) return;
      const end = BigInt(payload.lastOffset) + 1n;
      if (end > fp.consumedTo) fp.consumedTo = end;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.live === consumer) this.live = undefined;
      if (payload.restart) return;
      if (this.consumer === consumer) this.consumer = undefined;
      this.failure = payload.error;
      logger?.error({ err: payload.error }, 'Kafka consumer stopped');
      this.wake();
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => this.onBatch(consumer, payload),
      });
    } catch (err) {
      if (this.consumer === consumer) this.consumer = undefined;
      if (this.live === consumer) this.live = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw new KafkaReadError(`cannot read ${[...this.topics].join(', ')}`, err);
    }
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.live = undefined;
    await consumer?.disconnect().catch(() => undefined);
  }

  /**
   * After every join (the first, a rebalance, a restart after a crash): every partition paused,
   * then those read here resumed and sought to what they have handed out, their buffers dropped
   * (the position kafkajs restarts from is not ours). Runs inside the join, before any fetch.
   */
  private lay(consumer: Consumer): void {
    if (consumer !== this.consumer) return;
    this.live = consumer;
    for (const topic of this.topics) consumer.pause([{ topic }]);
    for (const fp of this.partitions.values()) {
      if (!fp.active) continue;
      fp.buffer = [];
      fp.full = false;
      fp.fetched = fp.next;
      fp.consumedTo = fp.next;
      consumer.resume([{ topic: fp.topic, partitions: [fp.partition] }]);
      consumer.seek({ topic: fp.topic, partition: fp.partition, offset: String(fp.next) });
    }
  }

  private async onBatch(consumer: Consumer, { batch, isStale, isRunning }: EachBatchPayload) {
    // Fetched before a seek, by a consumer replaced since, or while stopping: not ours to keep.
    if (consumer !== this.live || isStale() || !isRunning()) return;
    const fp = this.partitions.get(`${batch.topic}|${batch.partition}`);
    if (!fp?.active) {
      consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
      return;
    }
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < fp.fetched) continue;
      fp.buffer.push(message);
      fp.fetched = offset + 1n;
    }
    const last = BigInt(batch.lastOffset()) + 1n;
    if (last > fp.consumedTo) fp.consumedTo = last;
    if (fp.buffer.length >= this.options.bufferLimit && !fp.full) {
      fp.full = true;
      consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
    }
    if (fp.buffer.length > 0) this.wake();
  }
}
