import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import type { Keys } from '../../keys.ts';
import type { PartitionRef } from '../../partition-id.ts';
import type { RedisClient } from '../../redis-client.ts';
import { RetentionEnforcer, type RetentionPassResult } from '../../retention/retention-enforcer.ts';
import { RetentionLease } from '../../retention/retention-lease.ts';
import { policyOf, type ResolvedRetentionOptions } from '../../retention/retention-options.ts';
import type { OwnedPartition } from './owned-partition.ts';

/**
 * Retention that runs by itself: every interval (jittered), for each partition this instance
 * owns and whose retention lease it holds or takes (one trimmer per partition whatever the
 * number of sinks: see RetentionLease), the entity's policy is applied (RetentionEnforcer,
 * the same safe bound as `cdc trim`). It runs beside the loop, on its own timer, from the first
 * partition acquired until the runner stops; a failed pass is logged and the next one tries
 * again. Emits `retention.*` events for the metrics.
 */
export class RetentionTrimmer {
  private readonly enforcer: RetentionEnforcer;
  private readonly lease: RetentionLease;
  /** Partitions whose retention lease this instance holds, by id. */
  private readonly held = new Map<string, PartitionRef>();
  /** Groups reported as holding a partition back (non-zero), by partition id. */
  private readonly reported = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sinkName: string,
    consumer: string,
    redis: RedisClient,
    keys: Keys,
    private readonly owned: ReadonlyMap<string, OwnedPartition>,
    private readonly options: ResolvedRetentionOptions,
    stopping: AbortSignal,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {
    this.enforcer = new RetentionEnforcer(redis, keys);
    // Outlives two late passes: a stopped holder's partitions are trimmed by another soon.
    this.lease = new RetentionLease(
      redis,
      keys,
      `${sinkName}/${consumer}`,
      Math.max(1000, 3 * options.intervalMs),
    );
    if (options.intervalMs === 0) return;
    // Nothing to trim before the first partition is owned; nothing after stop.
    instrumentation.on('sink.partition.acquired', () => this.schedule());
    stopping.addEventListener('abort', () => void this.stop(), { once: true });
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const jitter = 0.8 + Math.random() * 0.4;
    this.timer = setTimeout(
      () => {
        this.pass = this.runPass()
          .catch((err: unknown) => {
            if (!this.stopped) this.logger?.warn({ err }, 'retention pass failed');
          })
          .finally(() => {
            this.timer = undefined;
            this.pass = undefined;
            this.schedule();
          });
      },
      Math.round(this.options.intervalMs * jitter),
    );
    // A runner that is never stopped must not keep the process alive for retention's sake.
    this.timer.unref();
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    // Handed back so that another sink's instance trims at once; best effort (Redis may be
    // closing), the lease expires anyway.
    for (const ref of this.held.values())
      await this.lease.release(ref.entity, ref.partition).catch(() => undefined);
    this.held.clear();
  }

  private async runPass(): Promise<void> {
    for (const [id, ref] of this.held) if (!this.owned.has(id)) await this.letGo(id, ref, true);
    for (const { id, ref } of [...this.owned.values()]) {
      if (this.stopped) return;
      const policy = policyOf(this.options, ref.entity);
      if (!policy.enabled) continue;
      if (!(await this.lease.hold(ref.entity, ref.partition))) {
        if (this.held.has(id)) await this.letGo(id, ref, false);
        continue;
      }
      this.held.set(id, ref);
      this.report(id, await this.enforcer.enforce(ref.entity, ref.partition, policy));
    }
  }

  /** Stops trimming a partition: its gauges go to 0 here (the new trimmer reports them). */
  private async letGo(id: string, ref: PartitionRef, release: boolean): Promise<void> {
    this.held.delete(id);
    this.clearReported(id, ref, new Set());
    if (release) await this.lease.release(ref.entity, ref.partition);
  }

  private report(id: string, result: RetentionPassResult): void {
    const { entity, partition } = result;
    const sink = this.sinkName;
    if (result.trimmed > 0)
      this.instrumentation.emit('retention.trimmed', {
        sink,
        entity,
        partition,
        entries: result.trimmed,
      });
    const now = new Set<string>();
    for (const held of result.heldBack) {
      now.add(held.group);
      this.instrumentation.emit('retention.held-back', {
        sink,
        entity,
        partition,
        group: held.group,
        entries: held.entries,
        ageMs: held.ageMs,
        overLimit: held.overLimit,
      });
      if (held.overLimit)
        this.logger?.warn(
          {
            entity,
            partition,
            group: held.group,
            entries: held.capped ? `≥${held.entries}` : held.entries,
            ageSeconds: Math.round(held.ageMs / 1000),
          },
          `retention held back past its limit by group "${held.group}"`,
        );
    }
    this.clearReported(id, { entity, partition }, now);
    for (const { group, skip } of result.skipped) {
      this.instrumentation.emit('retention.skipped', {
        sink,
        entity,
        partition,
        group,
        from: skip.from,
        to: skip.to,
        entries: skip.entries,
      });
      this.logger?.warn(
        { entity, partition, group, from: skip.from, to: skip.to, entries: skip.entries },
        `retention trimmed past group "${group}": entries it had not read are gone ` +
          '(rebuild it from Kafka or backfill it; the range is in its retention-skips record)',
      );
    }
  }

  /** Reports 0 for the groups that held the partition back before and do not now. */
  private clearReported(id: string, ref: PartitionRef, now: Set<string>): void {
    for (const group of this.reported.get(id) ?? [])
      if (!now.has(group))
        this.instrumentation.emit('retention.held-back', {
          sink: this.sinkName,
          ...ref,
          group,
          entries: 0,
          ageMs: 0,
          overLimit: false,
        });
    if (now.size > 0) this.reported.set(id, now);
    else this.reported.delete(id);
  }
}
