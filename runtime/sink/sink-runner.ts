import { setTimeout as sleep } from 'node:timers/promises';
import type avro from 'avsc';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.ts';
import { EntityMetadataStore } from '../capture/entity-metadata.ts';
import { consumerGroups } from '../consumer-groups.ts';
import { type ChangeEvent, decodeEnvelope, decodeEnvelopeTokens } from '../envelope.ts';
import { CdcError } from '../errors/cdc-error.ts';
import { Instrumentation } from '../instrumentation/instrumentation.ts';
import { Keys } from '../keys.ts';
import { connectRedis } from '../redis-connection.ts';
import { entryFields, type StreamEntries, streamEntries } from '../resp/stream-entries.ts';
import { StreamReadConnection } from '../resp/stream-read-connection.ts';
import type { RegisteredSchema } from '../schema/schema-registry.ts';
import { SchemaRegistry } from '../schema/schema-registry.ts';
import { compareStreamIds, streamIdTime, ZERO_ID } from '../stream-id.ts';
import { WatermarkPublisher } from '../watermark/watermark-publisher.ts';
import { DeadLetters, type QuarantineState } from './dead-letters.ts';
import { DecodedEvent } from './decoded-event.ts';
import { moveGroupBack } from './move-group-back.ts';
import { PartitionLeases, type PartitionRef } from './partition-leases.ts';
import { ReplayRequests } from './replay-requests.ts';
import type { EntityTarget, PartitionBatch, PreparedApply, Sink, SinkEvent } from './sink.ts';
import { offsetKey } from './sink.ts';
import {
  type ResolvedRunnerOptions,
  resolveRunnerOptions,
  type SinkRunnerOptions,
} from './sink-runner-options.ts';

/** An entry decoded ahead of its batch (decoding has no side effects, so it can overlap an apply). */
interface DecodedEntry {
  id: string;
  /** The read the entry came in, and its position there (its fields stay in the read's bytes). */
  read: StreamEntries;
  index: number;
  /** Deleted from the stream after it was delivered: Redis sent no fields. */
  deleted: boolean;
  envelope?: ChangeEvent;
  event?: SinkEvent;
  error?: Error;
}

type DecodedReply = Array<{ stream: string; entries: DecodedEntry[] }>;

interface ResolvedWriter {
  writer: RegisteredSchema;
  resolver: avro.Resolver | undefined;
}

function writerKey(schemaId: number, reader: RegisteredSchema): string {
  return `${schemaId}>${reader.id}`;
}

interface PartitionState {
  ref: PartitionRef;
  stream: string;
  /** Highest stream id committed in the target. */
  committed: string;
  /** Where the next read of this consumer's own pending entries starts, or '>' once caught up. */
  cursor: string;
  /** Delivery counts of entries that were pending when the partition was taken. */
  deliveries: Map<string, number>;
  quarantined: Map<string, QuarantineState>;
}

interface Planned {
  state: PartitionState;
  batch: PartitionBatch;
  ids: string[];
  /** The entries read for the batch (their fields go into dead letters). */
  entries: DecodedEntry[];
}

/** A read decoded ahead, and, when the sink prepares applies, planned and prepared as well. */
interface Prefetched {
  reply: DecodedReply;
  ahead?: {
    planned: Planned[];
    prepared: PreparedApply;
    /** SinkRunner.generation when planned: the plan is stale once it moved. */
    generation: number;
  };
}

/** Thrown inside the loop when stop() abandons a batch that cannot be applied right now. */
class Abandoned extends Error {}

/**
 * Runs a sink: reads its entities' partition streams through the sink's consumer group, applies
 * ordered batches with their offsets, acknowledges, and publishes applied watermarks.
 *
 * Apply, then XACK, then advance the watermark: a crash between any two steps only repeats work
 * that the offset check (entries at or below the committed offset are skipped) makes harmless.
 */
export class SinkRunner {
  readonly instrumentation: Instrumentation;
  private readonly sink: Sink;
  private readonly options: ResolvedRunnerOptions;
  private readonly keys: Keys;
  private readonly redis: Redis;
  private readonly reader: StreamReadConnection;
  private readonly ownsRedis: boolean;
  private readonly registry: SchemaRegistry;
  private readonly watermarks: WatermarkPublisher;
  private readonly deadLetters: DeadLetters;
  private readonly replays: ReplayRequests;
  private readonly leases: PartitionLeases;
  private readonly logger: Logger | undefined;
  private readonly requestedEntities: string[] | undefined;
  private readonly targets = new Map<string, EntityTarget>();
  private readonly partitions = new Map<string, PartitionState>();
  private all: PartitionRef[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatRunning: Promise<void> | undefined;
  private pendingAcquired: PartitionRef[] = [];
  private pendingRelease: PartitionRef[] = [];
  private lastHousekeeping = 0;
  private prefetch: Promise<Prefetched> | undefined;
  /**
   * Moves whenever something a plan depends on besides the entries may have changed: quarantined
   * keys, dead letters, owned partitions, reader schemas, a failed batch. A batch planned and
   * prepared ahead is used only if it has not moved since. A change that awaits moves it when it
   * starts and when it ends (see changing()).
   */
  private generation = 0;
  /** The acknowledgement of the last applied batch, sent but not awaited (see process()). */
  private acking: Promise<void> | undefined;

  constructor(options: SinkRunnerOptions) {
    this.options = resolveRunnerOptions(options);
    this.sink = options.sink;
    this.keys = new Keys(options.prefix ?? 'cdc');
    this.ownsRedis = !(options.redis instanceof Redis);
    this.redis = options.redis instanceof Redis ? options.redis : connectRedis(options.redis);
    // Blocking reads get their own connection so that commands never queue behind them.
    this.reader = StreamReadConnection.like(this.redis);
    this.registry = new SchemaRegistry(this.redis, this.keys);
    this.watermarks = new WatermarkPublisher(this.redis, this.keys);
    this.deadLetters = new DeadLetters(this.redis, this.keys, this.sink.name);
    this.replays = new ReplayRequests(this.redis, this.keys, this.sink.name);
    this.leases = new PartitionLeases(
      this.redis,
      this.keys,
      this.sink.name,
      this.options.consumer,
      this.options.leaseMs,
    );
    this.instrumentation = options.instrumentation ?? new Instrumentation();
    this.logger = options.logger;
    this.requestedEntities = options.entities;
  }

  /** Connects, ensures targets and consumer groups, and starts consuming in the background. */
  async start(): Promise<void> {
    // A target that is down at start is waited for, like one that goes down later.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sink.connect();
        await this.discoverEntities();
        break;
      } catch (err) {
        if (!this.transient(err)) throw err;
        const delayMs = backoffDelay(attempt, this.options.retry);
        this.logger?.warn({ err, attempt, delayMs }, 'target unavailable at start, retrying');
        await sleep(delayMs);
      }
    }
    this.running = true;
    await this.heartbeat();
    this.heartbeatTimer = setInterval(
      () => {
        this.heartbeatRunning ??= this.heartbeat()
          .catch((err: unknown) => this.logger?.warn({ err }, 'heartbeat failed'))
          .finally(() => {
            this.heartbeatRunning = undefined;
          });
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    this.loop = this.run();
  }

  /**
   * Stops after the batch in flight: it is committed if it can be, or abandoned (its entries stay
   * pending and are read again by whoever owns the partition next). Leases are released so another
   * instance takes over at once.
   */
  async stop(): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    clearInterval(this.heartbeatTimer);
    await this.loop?.catch(() => undefined);
    await this.heartbeatRunning;
    await this.leases.releaseAll(this.all).catch(() => undefined);
    this.reader.close();
    await this.sink.close();
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
    this.loop = undefined;
  }

  /** Partitions this instance owns now, as `entity/partition`. */
  ownedPartitions(): string[] {
    return [...this.partitions.keys()].sort();
  }

  /**
   * Finds entities to consume (all the capture has pinned, or the configured ones once they
   * exist), creates their consumer groups and targets. Runs at start and on every heartbeat, so a
   * sink started before the capture, or a new entity, is picked up without a restart.
   */
  private async discoverEntities(): Promise<void> {
    const metadata = await new EntityMetadataStore(this.redis, this.keys).all();
    const wanted = this.requestedEntities ?? [...metadata.keys()].sort();
    const added: EntityTarget[] = [];
    const refs: PartitionRef[] = [];
    for (const entity of wanted) {
      const meta = metadata.get(entity);
      if (this.targets.has(entity) || !meta) continue;
      added.push({ entity, schema: await this.registry.latest(entity), keyField: meta.keyField });
      for (let p = 0; p < meta.partitions; p++) {
        refs.push({ entity, partition: p });
        await this.redis
          .xgroup('CREATE', this.keys.stream(entity, p), this.sink.name, '0', 'MKSTREAM')
          .catch((err: Error) => {
            // BUSYGROUP: the group exists already; its position is irrelevant, offsets live in the target.
            if (!err.message.startsWith('BUSYGROUP')) throw err;
          });
      }
    }
    if (added.length === 0) return;
    // Targets first: a partition is only taken once its table or collection exists.
    await this.sink.ensureTargets([...this.targets.values(), ...added]);
    for (const target of added) this.targets.set(target.entity, target);
    this.all.push(...refs);
    this.logger?.info({ entities: added.map((t) => t.entity) }, 'consuming entities');
  }

  private async heartbeat(): Promise<void> {
    if (!this.running) return;
    await this.discoverEntities();
    const { acquired, lost, surplus } = await this.leases.heartbeat(this.all);
    this.pendingAcquired.push(...acquired);
    for (const ref of lost) {
      this.generation++;
      this.partitions.delete(offsetKey(ref.entity, ref.partition));
      this.instrumentation.emit('sink.partition.released', { sink: this.sink.name, ...ref });
      this.logger?.warn(ref, 'partition lease lost');
    }
    this.pendingRelease.push(
      ...surplus.filter(
        (r) =>
          !this.pendingRelease.some((p) => p.entity === r.entity && p.partition === r.partition),
      ),
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.applyOwnershipChanges();
        await this.housekeeping();
        if (this.partitions.size === 0) {
          await sleep(Math.min(200, this.options.blockMs));
          continue;
        }
        // Taken before it is awaited: a prefetch that failed must not be awaited again next turn.
        const prefetched = this.prefetch;
        this.prefetch = undefined;
        const fetched = await (prefetched ?? this.readDecoded().then((reply) => ({ reply })));
        // Read, decode, plan and prepare the next batch while this one is applied (the database
        // works, this process would wait); a partition's batches still apply in order.
        if (this.running && this.canPrefetch()) {
          this.prefetch = this.readDecoded().then((reply) => this.prepareAhead(reply));
          // A read that fails (Redis restarting) fails the next turn, which awaits it: until
          // then it must not count as an unhandled rejection, which would end the process.
          this.prefetch.catch(() => undefined);
        }
        await this.process(fetched);
      } catch (err) {
        this.generation++;
        if (err instanceof Abandoned || !this.running) break;
        this.logger?.error({ err }, 'sink loop error');
        await this.rewindToPending();
        await sleep(backoffDelay(1, this.options.retry));
      }
    }
    await this.prefetch?.catch(() => undefined);
    await this.settleAcks();
  }

  /**
   * Waits for the acknowledgement in flight. A failed one is only logged: its batch is committed
   * in the target, its entries stay pending and are skipped by the offsets when reclaimed, and the
   * next batch's watermark covers its partitions.
   */
  private async settleAcks(): Promise<void> {
    const acking = this.acking;
    this.acking = undefined;
    await acking?.catch((err: unknown) =>
      this.logger?.warn({ err }, 'acknowledging an applied batch failed; its entries stay pending'),
    );
  }

  /**
   * After a failed turn, entries may have been delivered to this consumer and never applied: a
   * read whose reply was lost with its connection (Redis counts them delivered all the same), a
   * batch that failed half way, a prefetched read thrown away. Reading '>' would skip them for
   * good, so every partition reads this consumer's pending entries above its committed offset
   * first, as on taking a partition.
   */
  private async rewindToPending(): Promise<void> {
    const prefetched = this.prefetch;
    this.prefetch = undefined;
    await prefetched?.catch(() => undefined);
    for (const state of this.partitions.values()) state.cursor = state.committed;
  }

  private canPrefetch(): boolean {
    return (
      this.pendingAcquired.length === 0 &&
      this.pendingRelease.length === 0 &&
      [...this.partitions.values()].every((s) => s.cursor === '>')
    );
  }

  private async applyOwnershipChanges(): Promise<void> {
    // A partition is handed over only once what was applied of it is acknowledged.
    if (this.pendingRelease.length > 0 || this.pendingAcquired.length > 0)
      await this.changing(() => this.changeOwnership());
  }

  private async changeOwnership(): Promise<void> {
    await this.settleAcks();
    while (this.pendingRelease.length > 0) {
      const ref = this.pendingRelease.shift()!;
      this.partitions.delete(offsetKey(ref.entity, ref.partition));
      await this.leases.release(ref);
      this.instrumentation.emit('sink.partition.released', { sink: this.sink.name, ...ref });
    }
    if (this.pendingAcquired.length === 0) return;
    const offsets = await this.sink.readOffsets();
    while (this.pendingAcquired.length > 0) {
      const ref = this.pendingAcquired.shift()!;
      if (!this.leases.isOwned(ref)) continue;
      const stream = this.keys.stream(ref.entity, ref.partition);
      // Take over whatever earlier owners left pending; this instance holds the lease now.
      let cursor = '0-0';
      let claimed = 0;
      do {
        const [next, entries] = (await this.redis.xautoclaim(
          stream,
          this.sink.name,
          this.options.consumer,
          0,
          cursor,
          'COUNT',
          1000,
          'JUSTID',
        )) as [string, string[]];
        claimed += entries.length;
        cursor = next;
      } while (cursor !== '0-0');
      if (claimed > 0)
        this.instrumentation.emit('sink.entries.reclaimed', {
          sink: this.sink.name,
          ...ref,
          count: claimed,
        });
      const deliveries = new Map<string, number>();
      const pending = (await this.redis.xpending(
        stream,
        this.sink.name,
        '-',
        '+',
        10_000,
        this.options.consumer,
      )) as Array<[string, string, number, number]>;
      for (const [id, , , count] of pending) deliveries.set(id, count);
      const committed = offsets.get(offsetKey(ref.entity, ref.partition)) ?? ZERO_ID;
      await this.rewindGroup(stream, committed);
      const state: PartitionState = {
        ref,
        stream,
        committed,
        cursor: '0-0',
        deliveries,
        quarantined: await this.deadLetters.quarantined(ref.entity, ref.partition),
      };
      this.partitions.set(offsetKey(ref.entity, ref.partition), state);
      this.instrumentation.emit('sink.partition.acquired', { sink: this.sink.name, ...ref });
      this.logger?.info(
        { ...ref, committed: state.committed, reclaimed: claimed },
        'partition acquired',
      );
    }
  }

  /**
   * The target's offset is the truth, not the group's position: when the target is behind what
   * the group has delivered (its data was restored from an older backup, dropped, or an operator
   * deleted its offsets to replay), move the group back so the gap is read again. Safe because
   * this instance holds the partition's lease; entries it already applied are skipped by offset.
   */
  private async rewindGroup(stream: string, committed: string): Promise<void> {
    const group = (await consumerGroups(this.redis, stream)).find((g) => g.name === this.sink.name);
    const delivered = group?.lastDelivered ?? ZERO_ID;
    if (compareStreamIds(committed, delivered) < 0) {
      const entries = await moveGroupBack(this.redis, stream, this.sink.name, committed);
      this.logger?.info(
        { stream, from: delivered, to: committed, entries },
        'group moved back to the committed offset',
      );
    }
  }

  private async read(): Promise<StreamEntries[]> {
    const states = [...this.partitions.values()];
    const backlog = states.filter((s) => s.cursor !== '>');
    if (backlog.length > 0) {
      // This consumer's own pending entries first, in order, without blocking.
      const reply = await this.readGroup(
        backlog.map((s) => s.stream),
        backlog.map((s) => s.cursor),
        false,
      );
      for (const state of backlog) {
        const ids = reply.find((r) => r.stream === state.stream)?.ids ?? [];
        state.cursor = ids.length === 0 ? '>' : ids.at(-1)!;
      }
      return reply;
    }
    return this.readGroup(
      states.map((s) => s.stream),
      states.map(() => '>'),
      true,
    );
  }

  /** One XREADGROUP over these streams from these cursors, blocking or not. */
  private async readGroup(
    streams: string[],
    cursors: string[],
    block: boolean,
  ): Promise<StreamEntries[]> {
    const { blockMs, batchSize } = this.options;
    // batchSize bounds a whole batch (and so memory), shared out over the streams read.
    const count = Math.max(1, Math.ceil(batchSize / streams.length));
    const command = ['XREADGROUP', 'GROUP', this.sink.name, this.options.consumer, 'COUNT', count];
    if (block) command.push('BLOCK', blockMs);
    command.push('STREAMS', ...streams, ...cursors);
    // A reply that does not come well after the block time means a dead connection.
    return streamEntries(await this.reader.command(command, blockMs + READ_TIMEOUT_MARGIN_MS));
  }

  private async readDecoded(): Promise<DecodedReply> {
    return this.decodeReply(await this.read());
  }

  /**
   * Decodes envelopes, and payloads unless the sink reads them itself; what to do with each entry
   * is decided later, in plan(). Schemas are looked up once per distinct id, so the per-entry
   * work stays synchronous.
   */
  private async decodeReply(reply: StreamEntries[]): Promise<DecodedReply> {
    const out: DecodedReply = [];
    const targets: Array<EntityTarget | undefined> = [];
    const schemaIds = new Set<number>();
    for (const read of reply) {
      const { stream, ids, fieldsAt } = read;
      const state = this.stateOf(stream);
      const target = state && this.targets.get(state.ref.entity);
      targets.push(target);
      const decoded: DecodedEntry[] = new Array(ids.length);
      for (let index = 0; index < ids.length; index++) {
        const entry: DecodedEntry = { id: ids[index]!, read, index, deleted: fieldsAt[index]! < 0 };
        decoded[index] = entry;
        if (!target || entry.deleted) continue;
        try {
          entry.envelope = envelopeOf(entry);
          if (entry.envelope.schemaId !== undefined) schemaIds.add(entry.envelope.schemaId);
        } catch (err) {
          entry.error = err as Error;
        }
      }
      out.push({ stream, entries: decoded });
    }
    await this.refreshReaderSchemas(schemaIds);
    const readers = targets.filter((t) => t !== undefined).map((t) => t.schema);
    const writers = await this.resolveWriters(schemaIds, readers);
    out.forEach(({ entries }, i) => {
      // Read after the refresh: a newer writer schema may have replaced the target's reader.
      const reader = targets[i]?.schema;
      if (!reader) return;
      for (const entry of entries) {
        if (!entry.envelope) continue;
        try {
          entry.event = this.sinkEvent(entry.envelope, reader, writers);
          // The event holds what is needed from here on; the envelope would only outlive it.
          entry.envelope = undefined;
        } catch (err) {
          entry.error = err as Error;
        }
      }
    });
    return out;
  }

  /** Decodes one entry on its own (entries read before this instance owned their partition). */
  private async decodeEntry(entry: DecodedEntry, target: EntityTarget): Promise<void> {
    if (entry.deleted) return;
    try {
      entry.envelope = envelopeOf(entry);
      entry.event = await this.toSinkEvent(target.schema, entry.envelope);
    } catch (err) {
      entry.error = err as Error;
    }
  }

  /**
   * Writer schema and resolver for every pair of these schema ids and readers, keyed by
   * `writerKey`; an id that cannot be looked up maps to its error (its events are dead letters).
   */
  private async resolveWriters(
    schemaIds: ReadonlySet<number>,
    readers: readonly RegisteredSchema[],
  ): Promise<Map<string, ResolvedWriter | Error>> {
    const resolved = new Map<string, ResolvedWriter | Error>();
    for (const reader of new Set(readers)) {
      for (const id of schemaIds) {
        try {
          const writer = await this.registry.get(id);
          resolved.set(writerKey(id, reader), {
            writer,
            resolver: await this.registry.resolver(id, reader),
          });
        } catch (err) {
          resolved.set(writerKey(id, reader), err as Error);
        }
      }
    }
    return resolved;
  }

  /**
   * The event with its payload resolved from writer to reader schema. The record itself is
   * decoded here, ahead of the apply, unless the sink transcodes payloads itself.
   */
  private sinkEvent(
    event: ChangeEvent,
    reader: RegisteredSchema,
    writers: ReadonlyMap<string, ResolvedWriter | Error>,
  ): SinkEvent {
    if (event.op !== 'upsert') return new DecodedEvent(event, reader, undefined, undefined);
    const resolved = writers.get(writerKey(event.schemaId!, reader));
    if (!resolved) throw new Error(`schema ${event.schemaId} was not looked up`);
    if (resolved instanceof Error) throw resolved;
    const decoded = new DecodedEvent(event, reader, resolved.writer, resolved.resolver);
    if (!this.sink.readsPayloads) decoded.decode();
    return decoded;
  }

  private stateOf(stream: string): PartitionState | undefined {
    for (const state of this.partitions.values()) if (state.stream === stream) return state;
    return undefined;
  }

  /**
   * Plans a prefetched read and has the sink prepare its apply, while the batch before is being
   * applied. Only plans without side effects qualify (no dead letter, no held key, nothing to
   * decode again); anything else is planned when its turn comes, as without a prepare.
   */
  private prepareAhead(reply: DecodedReply): Prefetched {
    if (!this.sink.prepare) return { reply };
    const generation = this.generation;
    const planned: Planned[] = [];
    for (const { stream, entries } of reply) {
      const state = this.stateOf(stream);
      if (!state || entries.length === 0) continue;
      const plan = this.planPure(state, entries);
      if (!plan) return { reply };
      planned.push(plan);
    }
    if (planned.length === 0) return { reply };
    try {
      const prepared = this.sink.prepare(planned.map((p) => p.batch));
      return prepared ? { reply, ahead: { planned, prepared, generation } } : { reply };
    } catch (err) {
      // Applying it the ordinary way will meet the same error and deal with it.
      this.logger?.debug({ err }, 'preparing a batch ahead failed');
      return { reply };
    }
  }

  private async process({ reply, ahead }: Prefetched): Promise<void> {
    let planned: Planned[] = [];
    let prepared: PreparedApply | undefined;
    if (ahead && ahead.generation === this.generation) {
      planned = ahead.planned;
      prepared = ahead.prepared;
    } else {
      for (const { stream, entries } of reply) {
        const state = this.stateOf(stream);
        // Not owned any more: leave the entries pending for the new owner.
        if (!state || entries.length === 0) continue;
        planned.push(await this.plan(state, entries));
      }
    }
    if (planned.length === 0) return;
    const started = performance.now();
    const batches = planned.map((p) => p.batch);
    try {
      await this.applyWithRetry(batches, prepared);
    } catch (err) {
      if (err instanceof Abandoned) throw err;
      this.generation++;
      if (!this.transient(err)) await this.changing(() => this.isolate(planned));
      else throw err;
    }
    const durationMs = performance.now() - started;
    const now = Date.now();
    // The target holds the batch now: that is the truth even if the acknowledgement fails.
    for (const { state, batch } of planned) state.committed = batch.offset;
    // Acknowledge and announce every partition of the batch in one round trip, without waiting
    // for the reply: the next batch is applied meanwhile. The announcement goes out now either
    // way; an acknowledgement that fails leaves entries pending, which the offsets make harmless.
    await this.settleAcks();
    const pipeline = this.redis.pipeline();
    for (const { state, batch, ids } of planned) {
      // Strings, not the ids' buffers as read: one Buffer argument switches ioredis to building
      // the whole command from buffers, which costs more than writing one string.
      pipeline.xack(state.stream, this.sink.name, ...ids);
      this.watermarks.queueAdvance(pipeline, {
        sink: this.sink.name,
        entity: batch.entity,
        partition: batch.partition,
        id: batch.offset,
      });
    }
    const acking = this.acknowledged(pipeline.exec(), planned, durationMs, now);
    // Settled by the next batch or at shutdown; marked handled so a failure cannot crash first.
    acking.catch(() => undefined);
    this.acking = acking;
  }

  private async acknowledged(
    replies: Promise<Array<[Error | null, unknown]> | null>,
    planned: Planned[],
    durationMs: number,
    now: number,
  ): Promise<void> {
    for (const [err] of (await replies) ?? []) if (err) throw err;
    for (const { state, batch, ids } of planned) {
      for (const id of ids) state.deliveries.delete(id);
      this.instrumentation.emit('sink.batch.applied', {
        sink: this.sink.name,
        entity: batch.entity,
        partition: batch.partition,
        events: batch.events.length,
        durationMs,
        endToEndMs: this.instrumentation.has('sink.batch.applied')
          ? batch.events.map((e) => now - e.capturedAt)
          : [],
      });
    }
  }

  /** Turns decoded entries into a batch: skips what is committed, parks quarantined keys. */
  private async plan(state: PartitionState, entries: DecodedEntry[]): Promise<Planned> {
    return this.planPure(state, entries) ?? (await this.planWithEffects(state, entries));
  }

  /**
   * plan() for the common case, with no side effects: undefined as soon as an entry needs one
   * (decoding it now, holding it behind a quarantined key, dead-lettering it).
   */
  private planPure(state: PartitionState, entries: DecodedEntry[]): Planned | undefined {
    const { ids, due } = dueEntries(state, entries);
    const events: SinkEvent[] = [];
    for (const entry of due) {
      const { id, event } = entry;
      if (!event || state.quarantined.has(event.key)) return undefined;
      if ((state.deliveries.get(id) ?? 0) > this.options.maxDeliveries) return undefined;
      events.push(event);
    }
    return planned(state, ids, entries, events);
  }

  private async planWithEffects(state: PartitionState, entries: DecodedEntry[]): Promise<Planned> {
    const { ids, due } = dueEntries(state, entries);
    const events: SinkEvent[] = [];
    for (const entry of due) {
      const { id } = entry;
      // Entries read before this instance owned their partition were not decoded ahead.
      if (!entry.event && !entry.error)
        await this.decodeEntry(entry, this.targets.get(state.ref.entity)!);
      const { envelope, event, error } = entry;
      const key = event?.key ?? envelope?.key ?? keyOf(fieldsOf(entry));
      if (state.quarantined.has(key)) {
        await this.park(state, key, id, fieldsOf(entry));
        continue;
      }
      const deliveries = state.deliveries.get(id) ?? 0;
      const failure =
        deliveries > this.options.maxDeliveries
          ? new Error(`delivered ${deliveries} times without being applied`)
          : error;
      if (failure || !event)
        await this.deadLetter(state, key, id, fieldsOf(entry), failure ?? new Error('not decoded'));
      else events.push(event);
    }
    return planned(state, ids, entries, events);
  }

  private async decode(reader: RegisteredSchema, id: string, fields: Buffer[]): Promise<SinkEvent> {
    return this.toSinkEvent(reader, decodeEnvelope(id, fields));
  }

  private async toSinkEvent(reader: RegisteredSchema, event: ChangeEvent): Promise<SinkEvent> {
    const ids = new Set(event.schemaId === undefined ? [] : [event.schemaId]);
    return this.sinkEvent(event, reader, await this.resolveWriters(ids, [reader]));
  }

  /** A typed runtime error knows whether it may pass; anything else the sink judges. */
  private transient(err: unknown): boolean {
    if (err instanceof CdcError) return err.retriable;
    return this.sink.isTransient(err);
  }

  /** A writer schema newer than the reader's means the targets may need new columns first. */
  private async refreshReaderSchemas(schemaIds: ReadonlySet<number>): Promise<void> {
    const newer: EntityTarget[] = [];
    for (const sid of schemaIds) {
      const writer = await this.registry.get(sid).catch(() => undefined);
      const target = writer && this.targets.get(writer.entity);
      if (target && writer.version > target.schema.version) newer.push(target);
    }
    if (newer.length > 0) await this.changing(() => this.evolveTargets(newer));
  }

  private async evolveTargets(newer: readonly EntityTarget[]): Promise<void> {
    for (const target of newer) target.schema = await this.registry.latest(target.entity);
    await this.retryTransient(() => this.sink.ensureTargets([...this.targets.values()]));
  }

  /**
   * Runs a change to what plans depend on. A batch may be prepared ahead in the middle of it (the
   * read ahead lands between two of its awaits) and see it half done: the generation moves when
   * the change starts and again when it ends, so only preparations made after it are used.
   */
  private async changing(change: () => Promise<void>): Promise<void> {
    this.generation++;
    try {
      await change();
    } finally {
      this.generation++;
    }
  }

  private async applyWithRetry(batches: PartitionBatch[], prepared?: PreparedApply): Promise<void> {
    await this.retryTransient(() => (prepared ? prepared() : this.sink.apply(batches)));
  }

  /** Retries transient failures with backoff until they pass or stop() is called. */
  private async retryTransient(action: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await action();
        return;
      } catch (err) {
        if (!this.transient(err)) throw err;
        if (!this.running) throw new Abandoned('stopped while the target was failing');
        const delayMs = backoffDelay(attempt, this.options.retry);
        this.instrumentation.emit('sink.batch.retried', {
          sink: this.sink.name,
          attempt,
          delayMs,
          error: err as Error,
        });
        this.logger?.warn({ err, attempt, delayMs }, 'transient failure, retrying');
        await sleep(delayMs);
      }
    }
  }

  /**
   * A batch failed permanently: apply its events one by one to find the ones that cannot be
   * applied, dead-letter those, quarantine their keys, and apply everything else.
   */
  private async isolate(planned: Planned[]): Promise<void> {
    for (const { state, batch, entries } of planned) {
      // Only failures come here: an index by id is worth building now, not for every batch.
      const raw = new Map(entries.map((e) => [e.id, e]));
      for (const event of batch.events) {
        if (state.quarantined.has(event.key)) {
          await this.park(state, event.key, event.id, fieldsOf(raw.get(event.id)!));
          continue;
        }
        try {
          await this.applyWithRetry([
            { entity: batch.entity, partition: batch.partition, events: [event], offset: event.id },
          ]);
        } catch (err) {
          if (err instanceof Abandoned) throw err;
          await this.deadLetter(
            state,
            event.key,
            event.id,
            fieldsOf(raw.get(event.id)!),
            err as Error,
          );
        }
      }
      await this.applyWithRetry([{ ...batch, events: [] }]);
    }
  }

  private async deadLetter(
    state: PartitionState,
    key: string,
    id: string,
    fields: Buffer[],
    error: Error,
  ): Promise<void> {
    const { entity, partition } = state.ref;
    const message = `${error.name}: ${error.message}`;
    // A change to the quarantines (see changing()), inline: no closure per dead letter.
    this.generation++;
    try {
      const head = await this.deadLetters.add(
        'failed',
        entity,
        partition,
        key,
        id,
        message,
        fields,
      );
      if (key) {
        await this.deadLetters.quarantine(entity, partition, key, head);
        state.quarantined.set(key, { head });
      }
    } finally {
      this.generation++;
    }
    this.instrumentation.emit('sink.event.dead-lettered', {
      sink: this.sink.name,
      entity,
      partition,
      key,
      id,
      error,
    });
    this.logger?.error(
      { entity, partition, key, id, err: error },
      'event dead-lettered; key quarantined',
    );
  }

  private async park(
    state: PartitionState,
    key: string,
    id: string,
    fields: Buffer[],
  ): Promise<void> {
    const { entity, partition } = state.ref;
    await this.deadLetters.add(
      'held',
      entity,
      partition,
      key,
      id,
      'held behind an earlier failed event of the same key',
      fields,
    );
    this.instrumentation.emit('sink.event.held', {
      sink: this.sink.name,
      entity,
      partition,
      key,
      id,
    });
  }

  /** Operator requests (re-drive, skip) and lag, between batches. */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeeping < this.options.housekeepingMs) return;
    this.lastHousekeeping = Date.now();
    // Quarantines are re-read and keys may be re-driven or skipped.
    await this.changing(() => this.operatorRequests());
  }

  private async operatorRequests(): Promise<void> {
    const requested = await this.replays.pending();
    const replays: Array<[PartitionState, string]> = [];
    for (const [key, state] of this.partitions) {
      const from = requested.get(key);
      if (from !== undefined) replays.push([state, from]);
    }
    // The read ahead holds entries of every partition, delivered to this consumer: dropping it
    // means reading each partition's pending entries again, as after a failed turn.
    if (replays.length > 0) await this.rewindToPending();
    for (const [state, from] of replays) await this.replay(state, from);
    for (const state of this.partitions.values()) {
      state.quarantined = await this.deadLetters.quarantined(state.ref.entity, state.ref.partition);
      for (const [key, q] of state.quarantined)
        if (q.request) await this.redrive(state, key, q.request);
      await this.reportLag(state);
    }
  }

  /**
   * Consumes a partition again after `from`: the offset in the target goes back first (so a crash
   * half way resumes the replay from the target's offset), then the consumer group, and the
   * partition reads new entries (`>`) from there, in order: reading its pending entries first
   * would apply later entries before earlier ones and move the offset past the replay. Events
   * apply again under the sink's version guards, so rows the target lost come back and newer ones
   * stay.
   */
  private async replay(state: PartitionState, from: string): Promise<void> {
    const { entity, partition } = state.ref;
    const rewind = this.sink.rewindOffset?.bind(this.sink);
    if (!rewind) {
      this.logger?.error(
        { entity, partition, from },
        'this sink cannot be replayed: no rewindOffset',
      );
      await this.replays.done(entity, partition, from);
      return;
    }
    if (compareStreamIds(from, state.committed) >= 0) {
      // Not behind this partition's offset: moving it there would skip entries, not replay them.
      this.logger?.info(
        { entity, partition, from, committed: state.committed },
        'nothing to replay',
      );
      await this.replays.done(entity, partition, from);
      return;
    }
    await this.settleAcks();
    await this.retryTransient(() => rewind(entity, partition, from));
    const entries = await moveGroupBack(this.redis, state.stream, this.sink.name, from);
    state.committed = from;
    state.cursor = '>';
    await this.replays.done(entity, partition, from);
    this.instrumentation.emit('sink.partition.replayed', {
      sink: this.sink.name,
      ...state.ref,
      from,
      entries,
    });
    this.logger?.info({ entity, partition, from, entries }, 'replaying partition');
  }

  private async redrive(
    state: PartitionState,
    key: string,
    request: 'redrive' | 'skip',
  ): Promise<void> {
    const { entity, partition } = state.ref;
    const letters = (await this.deadLetters.list({ entity, key })).filter(
      (l) => l.partition === partition,
    );
    const done: string[] = [];
    if (request === 'skip' && letters[0]) done.push(letters.shift()!.id);
    const target = this.targets.get(entity)!;
    for (const letter of letters) {
      try {
        const event = await this.decode(target.schema, letter.sourceId, letter.fields);
        // The offset stays where it is: these events are behind it already.
        await this.applyWithRetry([
          { entity, partition, events: [event], offset: state.committed, redrive: true },
        ]);
        done.push(letter.id);
      } catch (err) {
        if (err instanceof Abandoned) throw err;
        await this.deadLetters.remove(done);
        await this.deadLetters.quarantine(entity, partition, key, letter.id);
        state.quarantined.set(key, { head: letter.id });
        this.logger?.error(
          { entity, partition, key, err },
          're-drive failed again; key stays quarantined',
        );
        return;
      }
    }
    await this.deadLetters.remove(done);
    await this.deadLetters.release(entity, partition, key);
    state.quarantined.delete(key);
    this.logger?.info(
      { entity, partition, key, request, events: done.length },
      'quarantined key released',
    );
  }

  private async reportLag(state: PartitionState): Promise<void> {
    if (!this.instrumentation.has('sink.lag')) return;
    const next = await this.redis.xrange(state.stream, `(${state.committed}`, '+', 'COUNT', 1);
    const group = (await consumerGroups(this.redis, state.stream)).find(
      (g) => g.name === this.sink.name,
    );
    // Unknown only while a group moved back by someone else catches up: report what is known.
    this.instrumentation.emit('sink.lag', {
      sink: this.sink.name,
      ...state.ref,
      entries: (group?.lag ?? 0) + (group?.pending ?? 0),
      oldestAgeMs: next[0] ? Math.max(0, Date.now() - streamIdTime(next[0][0])) : 0,
    });
  }
}

const KEY = Buffer.from('key');

/** The value of a field of a raw entry, compared as bytes (no string per field name). */
function fieldValue(fields: Buffer[], name: Buffer): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.equals(name)) return fields[i + 1];
  return undefined;
}

/** The entry's envelope, decoded where it lies in its read. */
function envelopeOf(entry: DecodedEntry): ChangeEvent {
  const { read, index } = entry;
  return decodeEnvelopeTokens(entry.id, read.reply, read.fieldsAt[index]!, read.fieldItems[index]!);
}

/**
 * The ids of a read's entries of one partition (all of them: they are acknowledged together),
 * and the entries still to be done: not deleted from the stream since, and above the committed
 * offset (entries come in stream order: once one is above it, all later ones are).
 */
function dueEntries(
  state: PartitionState,
  entries: readonly DecodedEntry[],
): { ids: string[]; due: DecodedEntry[] } {
  const ids: string[] = [];
  const due: DecodedEntry[] = [];
  let above = false;
  for (const entry of entries) {
    ids.push(entry.id);
    above ||= compareStreamIds(entry.id, state.committed) > 0;
    if (above && !entry.deleted) due.push(entry);
  }
  return { ids, due };
}

/** The plan of a partition's entries once its events are chosen. */
function planned(
  state: PartitionState,
  ids: string[],
  entries: DecodedEntry[],
  events: SinkEvent[],
): Planned {
  const { entity, partition } = state.ref;
  return { state, ids, entries, batch: { entity, partition, events, offset: ids.at(-1)! } };
}

/** The entry's stream fields as read (views of the read's bytes), for dead letters. */
function fieldsOf(entry: DecodedEntry): Buffer[] {
  return entryFields(entry.read, entry.index) ?? [];
}

/** The key of an entry whose envelope could not be decoded, if it has one. */
function keyOf(fields: Buffer[]): string {
  return fieldValue(fields, KEY)?.toString() ?? '';
}

/** How much longer than its block time a read may take before its connection counts as dead. */
const READ_TIMEOUT_MARGIN_MS = 30_000;
