import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Instrumentation } from '../instrumentation/instrumentation.ts';
import { Keys } from '../keys.ts';
import { isRedisClient, type RedisClient } from '../redis-client.ts';
import { connectRedisClient } from '../redis-connection.ts';
import { retry } from '../retry.ts';
import { Abandoned } from './runner/abandoned.ts';
import { type BatchPlan, planBatch } from './runner/batch-planner.ts';
import type { DecodedEntry, DecodedRead } from './runner/entry-decoder.ts';
import { isTransientFailure } from './runner/error-policy.ts';
import type { OwnedPlan } from './runner/failure-isolation.ts';
import type { OwnedPartition } from './runner/owned-partition.ts';
import { PartitionLost } from './runner/partition-lost.ts';
import { ownedOf, type Prefetched } from './runner/prefetcher.ts';
import { assembleRunnerParts, type RunnerParts } from './runner/runner-parts.ts';
import type { PreparedApply, Sink } from './sink.ts';
import {
  type ResolvedRunnerOptions,
  resolveRunnerOptions,
  type SinkRunnerOptions,
} from './sink-runner-options.ts';

/**
 * Runs a sink: reads its entities' partitions from the source (the partition streams, through
 * the sink's consumer group), applies ordered batches with their offsets, acknowledges, and
 * publishes applied watermarks. This file keeps the loop and the lifecycle; each step is a part
 * of its own under `runner/` (ARCHITECTURE.md names them in the order an event passes).
 *
 * Apply, then acknowledge, then advance the watermark: a crash between any two steps only
 * repeats work that the offsets (entries at or below the committed offset are skipped) make
 * harmless.
 */
export class SinkRunner {
  readonly instrumentation: Instrumentation;
  private readonly sink: Sink;
  private readonly options: ResolvedRunnerOptions;
  private readonly redis: RedisClient;
  private readonly ownsRedis: boolean;
  private readonly logger: Logger | undefined;
  private readonly stopping = new AbortController();
  private readonly parts: RunnerParts;
  private running = false;
  private loop: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatRunning: Promise<void> | undefined;
  private lastHousekeeping = 0;

  constructor(options: SinkRunnerOptions) {
    this.options = resolveRunnerOptions(options);
    this.sink = options.sink;
    this.ownsRedis = !isRedisClient(options.redis);
    this.redis = isRedisClient(options.redis) ? options.redis : connectRedisClient(options.redis);
    this.instrumentation = options.instrumentation ?? new Instrumentation();
    this.logger = options.logger;
    this.parts = assembleRunnerParts({
      sink: this.sink,
      options: this.options,
      redis: this.redis,
      keys: new Keys(options.prefix ?? 'cdc'),
      entities: options.entities,
      stopping: this.stopping.signal,
      instrumentation: this.instrumentation,
      logger: this.logger,
    });
  }

  private get owned(): ReadonlyMap<string, OwnedPartition> {
    return this.parts.takeover.owned;
  }

  /** Connects, ensures targets and consumer groups, and starts consuming in the background. */
  async start(): Promise<void> {
    if (this.stopping.signal.aborted) throw new Error('a stopped SinkRunner cannot start again');
    try {
      // A target that is down at start is waited for, like one that goes down later.
      await retry(
        async () => {
          await this.sink.connect();
          await this.parts.targets.discover();
        },
        {
          attempts: this.options.startAttempts,
          backoff: this.options.retry,
          isRetriable: (err) => isTransientFailure(this.sink, err),
          onRetry: ({ error, attempt, delayMs }) =>
            this.logger?.warn(
              { err: error, attempt, delayMs },
              'target unavailable at start, retrying',
            ),
        },
      );
      this.running = true;
      await this.heartbeat();
    } catch (err) {
      // A start refused (bad configuration, a target that cannot be used) leaves nothing open
      // behind it: a caller that goes on (a test, an embedding application) keeps no sockets.
      this.running = false;
      await this.close();
      throw err;
    }
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
    // Ends retries of a failing target and the pause after a failed turn.
    this.stopping.abort(new Abandoned());
    await this.loop?.catch(() => undefined);
    await this.heartbeatRunning;
    await this.close();
    this.loop = undefined;
  }

  /** Hands back the leases held and closes the source, the sink and an own Redis connection. */
  private async close(): Promise<void> {
    await this.parts.takeover.releaseAll(this.parts.targets.partitions).catch(() => undefined);
    this.parts.source.close();
    await this.sink.close().catch((err: unknown) => this.logger?.warn({ err }, 'closing the sink'));
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Partitions this instance owns now, as `entity/partition`. */
  ownedPartitions(): string[] {
    return [...this.owned.keys()].sort();
  }

  private async heartbeat(): Promise<void> {
    if (!this.running) return;
    await this.parts.targets.discover();
    await this.parts.takeover.heartbeat(this.parts.targets.partitions);
  }

  private async run(): Promise<void> {
    // A failed turn (Redis restarting, a connection lost) is retried with a short capped
    // backoff: the turn itself retries a failing target for as long as it takes.
    const backoff = {
      ...this.options.retry,
      maxMs: Math.min(this.options.retry.maxMs ?? 1000, 1000),
    };
    while (this.running) {
      try {
        await retry(() => this.turn(), {
          backoff,
          signal: this.stopping.signal,
          isRetriable: (err) => this.running && !(err instanceof Abandoned),
          onRetry: async ({ error }) => {
            this.parts.epoch.changed();
            this.logger?.error({ err: error }, 'sink loop error');
            await this.readPendingAgain();
          },
        });
      } catch (err) {
        if (err instanceof Abandoned || !this.running) break;
        throw err;
      }
    }
    await this.parts.prefetcher.drop();
    await this.parts.acknowledger.settle();
  }

  /** One batch: ownership changes and operator requests first, then read, apply, acknowledge. */
  private async turn(): Promise<void> {
    await this.parts.takeover.applyChanges();
    await this.housekeeping();
    if (this.owned.size === 0) {
      await sleep(Math.min(200, this.options.blockMs));
      return;
    }
    const fetched = await (this.parts.prefetcher.take() ??
      this.readDecoded().then((reads) => ({ reads })));
    if (this.running && this.canPrefetch())
      this.parts.prefetcher.start(() => this.readDecoded(), this.owned);
    await this.process(fetched);
  }

  private async readDecoded(): Promise<DecodedRead[]> {
    const partitions = [...this.owned.values()];
    const { reads, refused } = await this.parts.source.read(partitions);
    // Read refused (the lease went while this instance was paused, say): nothing of those
    // partitions was delivered to it, and it must stop applying them now, not at the next beat.
    if (refused.length > 0)
      this.parts.takeover.refused(partitions.filter((p) => refused.includes(p.ref)));
    return this.parts.decoder.decode(reads);
  }

  /** Reading ahead waits while partitions change hands or read their pending entries. */
  private canPrefetch(): boolean {
    return (
      !this.parts.takeover.changesPending &&
      [...this.owned.values()].every((p) => p.offsets.caughtUp)
    );
  }

  /**
   * After a failed turn or before a replay: the read ahead is thrown away and every partition
   * reads this consumer's pending entries above its committed offset first (see
   * PartitionOffsets.readPendingAgain).
   */
  private async readPendingAgain(): Promise<void> {
    await this.parts.prefetcher.drop();
    for (const partition of this.owned.values()) partition.offsets.readPendingAgain();
  }

  /** Operator requests (replay, re-drive, skip) and lag, between batches. */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeeping < this.options.housekeepingMs) return;
    this.lastHousekeeping = Date.now();
    // Quarantines are re-read and keys may be re-driven or skipped: plans made meanwhile go.
    await this.parts.epoch.during(() =>
      this.parts.requests.carryOut(this.owned, () => this.readPendingAgain()),
    );
    await this.parts.lag.report(this.owned.values());
  }

  private async process({ reads, ahead }: Prefetched): Promise<void> {
    let plans: OwnedPlan[];
    let prepared: PreparedApply | undefined;
    if (ahead && this.parts.epoch.isCurrent(ahead.token)) {
      plans = ahead.plans;
      prepared = ahead.prepared;
    } else {
      plans = [];
      for (const { ref, entries } of reads) {
        const partition = ownedOf(this.owned, ref);
        // Not owned any more: the entries stay pending for the new owner.
        if (!partition || entries.length === 0) continue;
        plans.push({ partition, plan: await this.plan(partition, entries) });
      }
    }
    if (plans.length === 0) return;
    const started = performance.now();
    try {
      await this.parts.retry.run(() => {
        const lost = plans.filter(({ partition }) => this.owned.get(partition.id) !== partition);
        if (lost.length > 0) throw new PartitionLost(lost.map(({ partition }) => partition.id));
        return prepared?.() ?? this.sink.apply(plans.map((p) => p.plan.batch));
      });
    } catch (err) {
      // Transient failures are retried until they pass, stop() abandons the batch, or a
      // partition of it is lost (the turn then fails and starts over without it).
      if (err instanceof Abandoned || err instanceof PartitionLost) throw err;
      this.parts.epoch.changed();
      await this.parts.isolation.recover(plans);
    }
    const durationMs = performance.now() - started;
    // The target holds the batch now: that is the truth even if the acknowledgement fails.
    for (const { partition, plan } of plans) partition.offsets.committedTo(plan.batch.offset);
    await this.parts.acknowledger.acknowledge(plans, durationMs, Date.now());
  }

  /** Plans a partition's entries and writes the plan's dead letters and held entries. */
  private async plan(partition: OwnedPartition, entries: DecodedEntry[]): Promise<BatchPlan> {
    const input = {
      ref: partition.ref,
      offsets: partition.offsets,
      entries,
      quarantined: partition.quarantined,
      maxDeliveries: this.options.maxDeliveries,
    };
    let result = planBatch(input);
    if (result.undecoded) {
      const target = this.parts.targets.get(partition.ref.entity);
      if (!target) throw new Error(`no target for entity ${partition.ref.entity}`);
      for (const entry of result.undecoded)
        await this.parts.decoder.decodeLate(entry, target.schema);
      result = planBatch(input);
    }
    const plan = result.plan!;
    if (plan.effects.length > 0) await this.parts.isolation.carryOut(partition, plan.effects);
    return plan;
  }
}
