import kafkajs, {
  type Admin,
  type Kafka,
  type Message,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from 'pino';
import type { ChangeEvent } from '../../../runtime/envelope.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import type { Instrumentation } from '../../../runtime/instrumentation/instrumentation.ts';
import { kafkaChangeRecord } from '../../../runtime/kafka/kafka-message.ts';
import { partitionId } from '../../../runtime/partition-id.ts';
import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';
import type {
  EntityTarget,
  PartitionBatch,
  PreparedApply,
  Sink,
  SinkEvent,
} from '../../../runtime/sink/sink.ts';
import { compareStreamIds } from '../../../runtime/stream-id.ts';
import './bridge-events.ts';
import { EntityTopics } from './entity-topics.ts';
import {
  type KafkaBridgeOptions,
  type ResolvedKafkaBridgeOptions,
  resolveKafkaBridgeOptions,
} from './kafka-bridge-options.ts';
import { isProducerFenced, isTransientKafkaError } from './kafka-errors.ts';
import { kafkajsLogging } from './kafkajs-log.ts';
import { KeyPlacement } from './key-placement.ts';
import { offsetRecord } from './offset-record.ts';
import { OffsetsTopic } from './offsets-topic.ts';
import type { PartitionOwnership } from './partition-ownership.ts';
import { PartitionProducer } from './partition-producer.ts';
import { ProducerFencedError } from './producer-fenced-error.ts';
import { chunkMessages } from './request-chunks.ts';
import { noSchemaMirror, type SchemaMirror } from './schema-mirror-hook.ts';
import { transactionalId } from './transactional-id.ts';

/** What the bridge needs from its surroundings besides Kafka. */
export interface KafkaBridgeDependencies {
  /** The entities' partition counts as the capture pinned them (their topics' default partitions). */
  entityPartitions(): Promise<ReadonlyMap<string, { partitions: number }>>;
  /** Whether this instance holds a partition's lease now (see partition-ownership.ts). */
  ownsPartition: PartitionOwnership;
  /** Receives `bridge.*` events. Default: none are emitted. */
  instrumentation?: Instrumentation;
  logger?: Logger;
  /** Where writer schemas are mirrored before their first message commits. Default: nowhere. */
  schemaMirror?: SchemaMirror;
  /**
   * Told each entity's topic once the topics are ensured (entity -> topic), before anything is
   * produced to them: the service records them for `cdc lag`. Default: nobody.
   */
  topicsEnsured?(topics: ReadonlyMap<string, string>): Promise<void>;
}

/** A source partition's producer and what it has committed. */
interface PartitionState {
  readonly entity: string;
  readonly partition: number;
  readonly producer: PartitionProducer;
  /**
   * The stream id the partition is produced up to in Kafka, as this producer knows it: read from
   * the offsets topic after the producer started (so after every earlier producer of the
   * partition was fenced), then moved by each commit. Undefined until that read.
   */
  fence: string | undefined;
}

/**
 * The Kafka bridge: a sink that produces every change event to its entity's topic, keyed by the
 * entity key, exactly once.
 *
 * Each source partition has its own transactional producer (transactional id
 * `<prefix>/<sink>/<entity>/<partition>`), and each batch of a partition is one Kafka
 * transaction holding its records and the partition's offset record in the offsets topic, so
 * records and offset commit together or not at all. Partitions of one batch are produced in
 * parallel, each by its producer.
 *
 * A producer is started (which fences every earlier producer of its id and has the coordinator
 * finish or abort what such a producer left open) only for a partition whose lease this instance
 * holds. Whenever producers start (at takeover, when the runner reads the offsets, and before a
 * batch of a partition without one), the producers of every held partition start first, then
 * the offsets topic is read up to every transaction begun before the read, decided; each
 * producer's fence is the offset read, and events at or below it are never produced again (a
 * former owner committed them). A producer whose transaction fails is discarded; the next
 * attempt starts a new one, lease permitting. A fenced producer means another instance started
 * one: without the lease, the batch fails with ProducerFencedError and is left to the owner
 * (see ARCHITECTURE.md, "Kafka bridge").
 *
 * The payload is sent as captured, in the Confluent wire format with the writer schema's id
 * (`readsPayloads`): records are never decoded.
 */
export class KafkaBridgeSink implements Sink {
  readonly name: string;
  readonly readsPayloads = true;
  private readonly options: ResolvedKafkaBridgeOptions;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly offsets: OffsetsTopic;
  private readonly topics: EntityTopics;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly placement = new KeyPlacement();
  private readonly mirrored = new Set<number>();
  private readonly schemaMirror: SchemaMirror;
  private readonly logger: Logger | undefined;

  constructor(
    options: KafkaBridgeOptions,
    private readonly deps: KafkaBridgeDependencies,
  ) {
    this.options = resolveKafkaBridgeOptions(options);
    this.name = this.options.name;
    this.logger = deps.logger?.child({ component: 'bridge-kafka' });
    this.schemaMirror = deps.schemaMirror ?? noSchemaMirror;
    // kafkajs' entries go to the bridge's logger at debug level (see kafkajs-log.ts).
    this.kafka = new kafkajs.Kafka({
      ...kafkajsLogging(deps.logger),
      ...this.options.kafka,
    });
    this.admin = this.kafka.admin();
    this.offsets = new OffsetsTopic(
      this.kafka,
      this.admin,
      {
        topic: this.options.offsetsTopic,
        sink: this.name,
        replicationFactor: this.options.offsetsReplicationFactor,
        readTimeoutMs: this.options.offsetsReadTimeoutMs,
      },
      this.logger,
    );
    this.topics = new EntityTopics(
      this.admin,
      this.options.topics,
      this.options.prefix,
      this.logger,
    );
  }

  /** The topic each entity is produced to (once its target was ensured). */
  topicOf(entity: string): string {
    return this.topics.of(entity).topic;
  }

  /** The compacted topic holding each partition's offset. */
  get offsetsTopic(): string {
    return this.offsets.topic;
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.offsets.start();
    await this.schemaMirror.start?.();
  }

  async ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    const pinned = await this.deps.entityPartitions();
    const entities = new Map<string, { partitions: number }>();
    for (const { entity } of targets) {
      const metadata = pinned.get(entity);
      if (!metadata) throw new Error(`entity ${entity} has no partition count in the log`);
      entities.set(entity, metadata);
    }
    await this.topics.ensure(entities);
    await this.deps.topicsEnsured?.(
      new Map([...this.topics.entities()].map((entity) => [entity, this.topicOf(entity)])),
    );
  }

  /**
   * The offsets committed in Kafka (see `resync`): the runner reads them when it takes
   * partitions, and this instance's producers of those partitions are started first.
   */
  readOffsets(): Promise<Map<string, string>> {
    return this.resync();
  }

  apply(batches: readonly PartitionBatch[]): Promise<void> {
    return this.applyRecords(batches, undefined);
  }

  /**
   * Builds the batches' records (key placement, wire-format values, headers: a tenth of the
   * bridge's CPU) while the batch before is being produced. Depends on nothing that changes: the
   * fence is applied when the batch's turn comes. Undefined when a record cannot be built: then
   * `apply` builds them and reports the error.
   */
  prepare(batches: readonly PartitionBatch[]): PreparedApply | undefined {
    let records: Array<Array<Message & { partition: number }>>;
    try {
      records = batches.map((batch) => {
        const { topic, partitions } = this.topics.of(batch.entity);
        return batch.events.map((event) => this.message(event, batch.partition, topic, partitions));
      });
    } catch {
      return undefined;
    }
    return () => this.applyRecords(batches, records);
  }

  private async applyRecords(
    batches: readonly PartitionBatch[],
    records: ReadonlyArray<ReadonlyArray<Message & { partition: number }>> | undefined,
  ): Promise<void> {
    if (
      batches.some(
        (b) => this.partitions.get(partitionId(b.entity, b.partition))?.fence === undefined,
      )
    )
      await this.resync();
    const results = await Promise.allSettled(
      batches.map((batch, i) => this.produce(this.held(batch), batch, records?.[i])),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw this.worstOf(failures);
  }

  async rewindOffset(entity: string, partition: number, id: string): Promise<void> {
    if (!this.partitions.has(partitionId(entity, partition))) await this.resync();
    const state = this.held({ entity, partition });
    await this.transact(state, [], id);
    state.fence = id;
  }

  isTransient(error: unknown): boolean {
    return isTransientKafkaError(error);
  }

  async close(): Promise<void> {
    const states = [...this.partitions.values()];
    this.partitions.clear();
    await Promise.all(states.map((state) => state.producer.close()));
    await this.schemaMirror.close?.();
    await this.offsets.close();
    await this.admin.disconnect().catch(() => undefined);
  }

  /**
   * Starts a producer for every partition this instance holds the lease of and has none for
   * (starting one fences every other producer of the partition and has the coordinator finish
   * or abort the transaction such a producer left open), then reads the offsets topic (up to
   * every transaction begun before the read, decided) and sets the fence of every producer that
   * has none. Producers of all held partitions start before the read, not only those of the
   * batch at hand: a transaction this instance's predecessor left open on any of them would
   * otherwise hold the read back until the transaction timeout.
   */
  private async resync(): Promise<Map<string, string>> {
    const pinned = await this.deps.entityPartitions();
    const refs: Array<{ entity: string; partition: number }> = [];
    for (const entity of this.topics.entities())
      for (let partition = 0; partition < (pinned.get(entity)?.partitions ?? 0); partition++)
        if (!this.partitions.has(partitionId(entity, partition))) refs.push({ entity, partition });
    await Promise.all(
      refs.map(async (ref) => {
        if (await this.deps.ownsPartition(ref.entity, ref.partition)) await this.start(ref);
      }),
    );
    const stored = await this.offsets.read();
    for (const [id, state] of this.partitions) state.fence ??= stored.get(id) ?? '0-0';
    return stored;
  }

  /** A started partition's state; ProducerFencedError when this instance does not hold it. */
  private held(ref: { entity: string; partition: number }): PartitionState {
    const state = this.partitions.get(partitionId(ref.entity, ref.partition));
    if (!state || state.fence === undefined)
      throw new ProducerFencedError(ref.entity, ref.partition);
    return state;
  }

  /** Starts the producer of a partition whose lease this instance holds. */
  private async start(ref: { entity: string; partition: number }): Promise<void> {
    const producer = new PartitionProducer(this.kafka, {
      transactionalId: transactionalId(this.options.prefix, this.name, ref.entity, ref.partition),
      transactionTimeoutMs: this.options.transactionTimeoutMs,
      retryInitialMs: this.options.producerRetryInitialMs,
    });
    try {
      await producer.start();
    } catch (error) {
      await producer.close();
      throw error;
    }
    this.partitions.set(partitionId(ref.entity, ref.partition), {
      ...ref,
      producer,
      fence: undefined,
    });
    this.deps.instrumentation?.emit('bridge.producer.started', { sink: this.name, ...ref });
    this.logger?.debug(ref, 'producer started');
  }

  /** One partition's batch as one transaction: its events above the fence, and its offset. */
  private async produce(
    state: PartitionState,
    batch: PartitionBatch,
    records: ReadonlyArray<Message & { partition: number }> | undefined,
  ): Promise<void> {
    if (batch.redrive) {
      // Re-driven dead letters sit at or below the offset on purpose; the offset stays.
      if (batch.events.length > 0) await this.transact(state, batch.events, undefined, records);
      return;
    }
    const fence = state.fence ?? '0-0';
    if (compareStreamIds(batch.offset, fence) <= 0) return;
    // Events are in stream order: those at or below the fence are a prefix.
    let first = 0;
    while (first < batch.events.length && compareStreamIds(batch.events[first]!.id, fence) <= 0)
      first++;
    await this.transact(
      state,
      first === 0 ? batch.events : batch.events.slice(first),
      batch.offset,
      records && first > 0 ? records.slice(first) : records,
    );
    state.fence = batch.offset;
  }

  /**
   * Produces the events (and the offset record, unless `offset` is undefined) in one
   * transaction, cut into requests of at most `maxRequestBytes`. On failure the producer is
   * discarded; a fenced one is reported as ProducerFencedError.
   */
  private async transact(
    state: PartitionState,
    events: readonly SinkEvent[],
    offset: string | undefined,
    built?: ReadonlyArray<Message & { partition: number }>,
  ): Promise<void> {
    const { entity, partition } = state;
    const { topic, partitions } = this.topics.of(entity);
    const messages =
      built ?? events.map((event) => this.message(event, partition, topic, partitions));
    const chunks = chunkMessages(messages, this.options.maxRequestBytes);
    const requests: TopicMessages[][] = chunks.map((chunk) => [{ topic, messages: chunk }]);
    if (offset !== undefined) {
      const record = {
        topic: this.offsets.topic,
        messages: [offsetRecord(this.name, entity, partition, offset)],
      };
      if (requests.length > 0) requests.at(-1)!.push(record);
      else requests.push([record]);
    }
    if (requests.length === 0) return;
    await this.mirrorSchemas(events);
    const started = performance.now();
    let written: RecordMetadata[][];
    try {
      written = await state.producer.transact(requests);
    } catch (error) {
      this.discard(state);
      this.deps.instrumentation?.emit('bridge.transaction.aborted', {
        sink: this.name,
        entity,
        partition,
        error: error as Error,
      });
      if (isProducerFenced(error)) {
        this.deps.instrumentation?.emit('bridge.producer.fenced', {
          sink: this.name,
          entity,
          partition,
        });
        this.logger?.warn(
          { entity, partition },
          'producer fenced by a later producer of the partition',
        );
        throw new ProducerFencedError(entity, partition, error);
      }
      throw error;
    }
    const instrumentation = this.deps.instrumentation;
    if (!instrumentation) return;
    instrumentation.emit('bridge.transaction.committed', {
      sink: this.name,
      entity,
      partition,
      messages: messages.length,
      durationMs: performance.now() - started,
    });
    if (instrumentation.has('bridge.produced'))
      this.emitProduced(chunks, written, topic, partitions);
  }

  /** `bridge.produced` per topic partition written, with the offset of its last record. */
  private emitProduced(
    chunks: ReadonlyArray<ReadonlyArray<{ partition: number }>>,
    written: readonly RecordMetadata[][],
    topic: string,
    partitions: number,
  ): void {
    const produced = new Map<
      string,
      { topic: string; partition: number; last: bigint; count: number }
    >();
    // Records per partition of the entity's topic in one request (kafkajs answers only where each
    // partition's run began), counted in an array: a Map update per record took 0.7% of the
    // bridge's CPU in a profile of a drain.
    const counts = new Uint32Array(partitions);
    written.forEach((records, i) => {
      counts.fill(0);
      for (const message of chunks[i] ?? []) counts[message.partition]!++;
      for (const record of records) {
        // The offset record is the one record of its topic in its request.
        const count = record.topicName === topic ? (counts[record.partition] ?? 0) : 1;
        if (record.baseOffset === undefined || count === 0) continue;
        const key = `${record.topicName}/${record.partition}`;
        const last = BigInt(record.baseOffset) + BigInt(count - 1);
        const before = produced.get(key);
        produced.set(key, {
          topic: record.topicName,
          partition: record.partition,
          last: before && before.last > last ? before.last : last,
          count: (before?.count ?? 0) + count,
        });
      }
    });
    for (const { topic: name, partition, last, count } of produced.values())
      this.deps.instrumentation?.emit('bridge.produced', {
        sink: this.name,
        topic: name,
        partition,
        offset: String(last),
        messages: count,
      });
  }

  /** A change event as a record of its entity's topic, in its key's partition. */
  private message(
    event: SinkEvent,
    partition: number,
    topic: string,
    partitions: number,
  ): Message & { partition: number } {
    const change: ChangeEvent = {
      id: event.id,
      op: event.op,
      entity: event.entity,
      key: event.key,
      capturedAt: event.capturedAt,
    };
    if (event.op === 'upsert') {
      if (event.writer) change.schemaId = event.writer.id;
      if (event.payload) change.payload = event.payload;
    }
    const { key, value, headers } = kafkaChangeRecord(change, partition);
    return {
      key,
      value,
      headers,
      partition: this.placement.partitionOf(topic, partitions, event.key),
    };
  }

  /** Mirrors each writer schema not mirrored yet by this process, before records carrying it commit. */
  private async mirrorSchemas(events: readonly SinkEvent[]): Promise<void> {
    let pending: RegisteredSchema[] | undefined;
    for (const event of events) {
      const writer = event.writer;
      if (!writer || this.mirrored.has(writer.id)) continue;
      pending ??= [];
      if (!pending.some((s) => s.id === writer.id)) pending.push(writer);
    }
    if (!pending) return;
    for (const schema of pending) {
      await this.schemaMirror.mirror(schema);
      this.mirrored.add(schema.id);
    }
  }

  private discard(state: PartitionState): void {
    const id = partitionId(state.entity, state.partition);
    if (this.partitions.get(id) === state) this.partitions.delete(id);
    void state.producer.close();
  }

  /**
   * The error to report of several partitions' failures: a transient one if any (the whole
   * apply is tried again, and partitions that committed are skipped by their fence), else the
   * first.
   */
  private worstOf(failures: readonly unknown[]): unknown {
    const transient = failures.find(
      (error) =>
        (error instanceof CdcError && error.retriable) ||
        (!(error instanceof CdcError) && this.isTransient(error)),
    );
    return transient ?? failures[0];
  }
}
