import type { Logger } from 'pino';
import { type PartitionRef, partitionIdOf } from '../../partition-id.ts';
import type { PreparedApply, Sink } from '../sink.ts';
import { planBatch } from './batch-planner.ts';
import type { DecodedRead } from './entry-decoder.ts';
import type { Epoch, EpochToken } from './epoch.ts';
import type { OwnedPlan } from './failure-isolation.ts';
import type { OwnedPartition } from './owned-partition.ts';

/** A read decoded ahead, and, when the sink prepares applies, planned and prepared as well. */
export interface Prefetched {
  reads: DecodedRead[];
  ahead?: {
    plans: OwnedPlan[];
    prepared: PreparedApply;
    /** The epoch when planned: the plan is stale once it moved. */
    token: EpochToken;
  };
}

/**
 * Reads, decodes, plans and prepares the next batch while the current one is applied (the
 * database works then and this process would only wait); a partition's batches still apply in
 * order. At most one read is ahead. A plan made ahead is used only if the epoch has not moved
 * since, and only plans without side effects are made ahead.
 */
export class Prefetcher {
  private ahead: Promise<Prefetched> | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly epoch: Epoch,
    private readonly maxDeliveries: number,
    private readonly logger: Logger | undefined,
  ) {}

  /** Starts the next read. */
  start(read: () => Promise<DecodedRead[]>, owned: ReadonlyMap<string, OwnedPartition>): void {
    const ahead = read().then((reads) => this.prepare(reads, owned));
    // A read that fails (Redis restarting) fails the turn that takes it: until then it must not
    // count as an unhandled rejection, which would end the process.
    ahead.catch(() => undefined);
    this.ahead = ahead;
  }

  /** The read ahead, if any, handed over once: a failed one is not awaited again. */
  take(): Promise<Prefetched> | undefined {
    const ahead = this.ahead;
    this.ahead = undefined;
    return ahead;
  }

  /**
   * Throws the read ahead away (its entries stay delivered to this consumer: the caller must
   * have its partitions read their pending entries again).
   */
  async drop(): Promise<void> {
    await this.take()?.catch(() => undefined);
  }

  /**
   * Plans a read and has the sink prepare its apply. Only plans without side effects qualify (no
   * dead letter, no held key, nothing to decode again); anything else is planned when its turn
   * comes, as without a prepare.
   */
  private prepare(reads: DecodedRead[], owned: ReadonlyMap<string, OwnedPartition>): Prefetched {
    if (!this.sink.prepare) return { reads };
    const token = this.epoch.token();
    const plans: OwnedPlan[] = [];
    for (const { ref, entries } of reads) {
      const partition = ownedOf(owned, ref);
      if (!partition || entries.length === 0) continue;
      const { plan } = planBatch({
        ref,
        offsets: partition.offsets,
        entries,
        quarantined: partition.quarantined,
        maxDeliveries: this.maxDeliveries,
      });
      if (!plan || plan.effects.length > 0) return { reads };
      plans.push({ partition, plan });
    }
    if (plans.length === 0) return { reads };
    try {
      const prepared = this.sink.prepare(plans.map((p) => p.plan.batch));
      return prepared ? { reads, ahead: { plans, prepared, token } } : { reads };
    } catch (err) {
      // Applying it the ordinary way meets the same error and deals with it.
      this.logger?.debug({ err }, 'preparing a batch ahead failed');
      return { reads };
    }
  }
}

/** The owned partition a read belongs to, if this instance still owns it. */
export function ownedOf(
  owned: ReadonlyMap<string, OwnedPartition>,
  ref: PartitionRef,
): OwnedPartition | undefined {
  return owned.get(partitionIdOf(ref));
}
