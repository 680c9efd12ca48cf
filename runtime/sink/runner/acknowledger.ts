import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import { PartitionPipelines } from '../../partition-pipelines.ts';
import type { RedisClient } from '../../redis-client.ts';
import type { WatermarkPublisher } from '../../watermark/watermark-publisher.ts';
import type { EventSource } from '../source/event-source.ts';
import type { OwnedPlan } from './failure-isolation.ts';

/**
 * After a batch is committed in the target: acknowledges its entries to the source and moves
 * each partition's applied watermark (announcing it to write-through callers), without making
 * the next batch wait for the replies. Only one acknowledgement is in flight; the next batch,
 * a change of ownership, a replay and shutdown settle it first. One that fails leaves entries
 * pending, which the committed offsets make harmless when they are read again.
 */
export class Acknowledger {
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly sinkName: string,
    private readonly source: EventSource,
    private readonly redis: RedisClient,
    private readonly watermarks: WatermarkPublisher,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Sends the acknowledgement of committed plans. `durationMs` is how long their apply took,
   * `now` when it ended (for the end-to-end latency of their events).
   */
  async acknowledge(plans: readonly OwnedPlan[], durationMs: number, now: number): Promise<void> {
    await this.settle();
    // One round trip for both where the source lives in this Redis (one per partition on a
    // Redis Cluster, side by side).
    const pipelines = new PartitionPipelines(this.redis);
    let acked: Promise<void> = Promise.resolve();
    for (const { partition, plan } of plans) {
      const pipeline = pipelines.of(partition.id);
      this.source.queueAcknowledge?.(pipeline, [plan]);
      this.watermarks.queueAdvance(pipeline, {
        sink: this.sinkName,
        entity: plan.ref.entity,
        partition: plan.ref.partition,
        id: plan.batch.offset,
      });
    }
    if (!this.source.queueAcknowledge)
      acked = this.source.acknowledge(plans.map(({ plan }) => plan));
    const announced = pipelines.exec();
    const inFlight = this.acknowledged(acked, announced, plans, durationMs, now);
    // Settled by the next batch or at shutdown; marked handled so a failure cannot crash first.
    inFlight.catch(() => undefined);
    this.inFlight = inFlight;
  }

  /** Waits for the acknowledgement in flight; a failed one is only logged. */
  async settle(): Promise<void> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    await inFlight?.catch((err: unknown) =>
      this.logger?.warn({ err }, 'acknowledging an applied batch failed; its entries stay pending'),
    );
  }

  private async acknowledged(
    acked: Promise<void>,
    announced: Promise<Array<[Error | null, unknown]> | null>,
    plans: readonly OwnedPlan[],
    durationMs: number,
    now: number,
  ): Promise<void> {
    const [ack, watermarks] = await Promise.allSettled([acked, announced]);
    if (ack.status === 'rejected') throw ack.reason;
    if (watermarks.status === 'rejected') throw watermarks.reason;
    for (const [err] of watermarks.value ?? []) if (err) throw err;
    const timed = this.instrumentation.has('sink.batch.applied');
    for (const { partition, plan } of plans) {
      partition.offsets.acknowledged(plan.ids);
      const { batch } = plan;
      this.instrumentation.emit('sink.batch.applied', {
        sink: this.sinkName,
        entity: batch.entity,
        partition: batch.partition,
        events: batch.events.length,
        durationMs,
        endToEndMs: timed ? batch.events.map((e) => now - e.capturedAt) : [],
      });
    }
  }
}
