import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import { compareStreamIds } from '../../stream-id.ts';
import type { DeadLetters } from '../dead-letters.ts';
import { PartitionOffsets } from '../partition-offsets.ts';
import { positionOf, type Sink } from '../sink.ts';
import { Abandoned } from './abandoned.ts';
import type { BatchPlan, PlanEffect } from './batch-planner.ts';
import type { Epoch } from './epoch.ts';
import type { OwnedPartition } from './owned-partition.ts';
import type { TransientRetry } from './transient-retry.ts';

/** A plan with the partition it belongs to. */
export interface OwnedPlan {
  readonly partition: OwnedPartition;
  plan: BatchPlan;
}

/**
 * Keeps one bad event from stopping a partition, and never lets a key's events apply out of
 * order: an event that cannot be applied goes to the sink's dead letters with its error and
 * original fields, its key is quarantined in that partition, and the key's later events are
 * parked behind it (held) until an operator re-drives or skips it; other keys keep flowing.
 * Every change to the quarantines moves the epoch, so batches planned ahead meanwhile are
 * planned again.
 */
export class FailureIsolation {
  constructor(
    private readonly sink: Sink,
    private readonly deadLetters: DeadLetters,
    private readonly epoch: Epoch,
    private readonly retry: TransientRetry,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {}

  /** Writes a plan's dead letters and held entries, in stream order, before its batch applies. */
  async carryOut(partition: OwnedPartition, effects: readonly PlanEffect[]): Promise<void> {
    for (const effect of effects) {
      const { entry, key } = effect;
      const fields = entry.read.fields(entry.index);
      if (effect.kind === 'hold') await this.hold(partition, key, entry.id, fields);
      else await this.deadLetter(partition, key, entry.id, fields, effect.error);
    }
  }

  /**
   * A batch failed permanently. Events another owner committed meanwhile are dropped first (the
   * target's offsets are read again: a former owner applying late must neither apply nor refuse
   * what the new owner fenced off), and the rest applied whole once more if anything was
   * dropped. Otherwise, or if that fails too, the events are applied one by one to find the
   * ones at fault, which are dead-lettered; then each partition's offset is committed.
   */
  async recover(plans: readonly OwnedPlan[]): Promise<void> {
    await this.epoch.during(async () => {
      await this.retry.run(() =>
        PartitionOffsets.refreshAll(
          this.sink,
          plans.map(({ partition }) => [partition.id, partition.offsets] as const),
        ),
      );
      let dropped = false;
      for (const owned of plans) {
        const { batch } = owned.plan;
        const committed = owned.partition.offsets.committed;
        const events = batch.events.filter((e) => compareStreamIds(positionOf(e), committed) > 0);
        if (events.length === batch.events.length) continue;
        dropped = true;
        owned.plan = { ...owned.plan, batch: { ...batch, events } };
      }
      if (dropped) {
        try {
          await this.retry.run(() => this.sink.apply(plans.map((p) => p.plan.batch)));
          return;
        } catch (err) {
          if (err instanceof Abandoned) throw err;
        }
      }
      for (const owned of plans) await this.isolate(owned);
    });
  }

  /** Applies a failed batch's events one by one; dead-letters those that fail. */
  private async isolate({ partition, plan }: OwnedPlan): Promise<void> {
    const { batch } = plan;
    // Only failures come here: an index by id is worth building now, not for every batch.
    const entries = new Map(plan.entries.map((e) => [e.id, e]));
    const fieldsOf = (id: string) => {
      const entry = entries.get(id)!;
      return entry.read.fields(entry.index);
    };
    for (const event of batch.events) {
      // Entries are known by their position (the event's id when reading the streams).
      const position = positionOf(event);
      if (partition.quarantined.has(event.key)) {
        await this.hold(partition, event.key, position, fieldsOf(position));
        continue;
      }
      try {
        await this.retry.run(() =>
          this.sink.apply([{ ...batch, events: [event], offset: position }]),
        );
      } catch (err) {
        if (err instanceof Abandoned) throw err;
        await this.deadLetter(partition, event.key, position, fieldsOf(position), err as Error);
      }
    }
    await this.retry.run(() => this.sink.apply([{ ...batch, events: [] }]));
  }

  /** Dead-letters an event and quarantines its key (if it has one) behind it. */
  async deadLetter(
    partition: OwnedPartition,
    key: string,
    id: string,
    fields: Buffer[],
    error: Error,
  ): Promise<void> {
    const { entity, partition: p } = partition.ref;
    const message = `${error.name}: ${error.message}`;
    await this.epoch.during(async () => {
      const head = await this.deadLetters.add('failed', entity, p, key, id, message, fields);
      if (key) {
        await this.deadLetters.quarantine(entity, p, key, head);
        partition.quarantined.set(key, { head });
      }
    });
    this.instrumentation.emit('sink.event.dead-lettered', {
      sink: this.sink.name,
      entity,
      partition: p,
      key,
      id,
      error,
    });
    this.logger?.error(
      { entity, partition: p, key, id, err: error },
      'event dead-lettered; key quarantined',
    );
  }

  /** Parks an event of a quarantined key behind its failed one. */
  private async hold(
    partition: OwnedPartition,
    key: string,
    id: string,
    fields: Buffer[],
  ): Promise<void> {
    const { entity, partition: p } = partition.ref;
    await this.deadLetters.add(
      'held',
      entity,
      p,
      key,
      id,
      'held behind an earlier failed event of the same key',
      fields,
    );
    this.instrumentation.emit('sink.event.held', {
      sink: this.sink.name,
      entity,
      partition: p,
      key,
      id,
    });
  }
}
