import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import { type PartitionRef, partitionIdOf } from '../../partition-id.ts';
import { ZERO_ID } from '../../stream-id.ts';
import type { DeadLetters } from '../dead-letters.ts';
import type { PartitionLeases } from '../partition-leases.ts';
import { PartitionOffsets } from '../partition-offsets.ts';
import type { Sink } from '../sink.ts';
import type { EventSource } from '../source/event-source.ts';
import type { Acknowledger } from './acknowledger.ts';
import type { Epoch } from './epoch.ts';
import type { OwnedPartition } from './owned-partition.ts';

/**
 * Which partitions this instance applies. The heartbeat (leases, on a timer) finds partitions
 * won, lost and owned beyond a fair share; the loop carries the changes out between batches:
 * a partition is handed back only once what was applied of it is acknowledged, and taken only
 * from the offset its target committed, with what earlier owners left pending claimed.
 */
export class PartitionTakeover {
  /** Owned partitions by `partitionId`. */
  readonly owned = new Map<string, OwnedPartition>();
  private acquired: PartitionRef[] = [];
  private surplus: PartitionRef[] = [];

  constructor(
    private readonly sink: Sink,
    private readonly source: EventSource,
    private readonly leases: PartitionLeases,
    private readonly deadLetters: DeadLetters,
    private readonly acknowledger: Acknowledger,
    private readonly epoch: Epoch,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {}

  /** Whether partitions wait to be taken or handed back (the loop does it before reading). */
  get changesPending(): boolean {
    return this.acquired.length > 0 || this.surplus.length > 0;
  }

  /** Renews leases over these partitions and notes what changed. */
  async heartbeat(all: readonly PartitionRef[]): Promise<void> {
    const { acquired, lost, surplus } = await this.leases.heartbeat(all);
    this.acquired.push(...acquired);
    for (const ref of lost) {
      const partition = this.owned.get(partitionIdOf(ref));
      // Lost (lease expired): entries read of it must not be applied by this instance any more.
      if (partition) this.lose(partition, 'partition lease lost');
    }
    for (const ref of surplus) {
      const id = partitionIdOf(ref);
      if (!this.surplus.some((r) => partitionIdOf(r) === id)) this.surplus.push(ref);
    }
  }

  /**
   * The source refused to read these partitions: their leases are not this instance's any more
   * (it was paused past them, say), which the heartbeat has not seen yet. They are dropped as
   * the heartbeat would drop them; it finds the leases gone on its next beat and keeps quiet.
   * Only the partitions as they were read are dropped: one taken again since stays.
   */
  refused(partitions: readonly OwnedPartition[]): void {
    for (const partition of partitions)
      if (this.owned.get(partition.id) === partition)
        this.lose(partition, 'partition lease lost (a read was refused)');
  }

  private lose(partition: OwnedPartition, message: string): void {
    this.epoch.changed();
    this.owned.delete(partition.id);
    this.instrumentation.emit('sink.partition.released', {
      sink: this.sink.name,
      ...partition.ref,
    });
    this.logger?.warn(partition.ref, message);
  }

  /** Hands back surplus partitions and takes acquired ones. */
  async applyChanges(): Promise<void> {
    if (!this.changesPending) return;
    await this.epoch.during(async () => {
      await this.acknowledger.settle();
      while (this.surplus.length > 0) {
        const ref = this.surplus.shift()!;
        this.owned.delete(partitionIdOf(ref));
        await this.leases.release(ref);
        this.instrumentation.emit('sink.partition.released', { sink: this.sink.name, ...ref });
      }
      if (this.acquired.length === 0) return;
      const stored = await this.sink.readOffsets();
      while (this.acquired.length > 0) {
        const ref = this.acquired.shift()!;
        if (this.leases.isOwned(ref)) await this.take(ref, stored);
      }
    });
  }

  private async take(ref: PartitionRef, stored: ReadonlyMap<string, string>): Promise<void> {
    const id = partitionIdOf(ref);
    const committed = stored.get(id) ?? ZERO_ID;
    const takeover = await this.source.take(ref, committed);
    if (!takeover) {
      // The lease went between winning it and taking the partition (a pause): another instance
      // owns it, and the heartbeat finds the lease gone on its next beat.
      this.logger?.warn(ref, 'partition lease lost before it was taken');
      return;
    }
    const { deliveries, reclaimed } = takeover;
    if (reclaimed > 0)
      this.instrumentation.emit('sink.entries.reclaimed', {
        sink: this.sink.name,
        ...ref,
        count: reclaimed,
      });
    this.owned.set(id, {
      ref,
      id,
      offsets: new PartitionOffsets(committed, deliveries),
      quarantined: await this.deadLetters.quarantined(ref.entity, ref.partition),
    });
    this.instrumentation.emit('sink.partition.acquired', { sink: this.sink.name, ...ref });
    this.logger?.info({ ...ref, committed, reclaimed }, 'partition acquired');
  }

  /** Releases every lease held (at shutdown), so another instance takes over at once. */
  async releaseAll(all: readonly PartitionRef[]): Promise<void> {
    await this.leases.releaseAll(all);
  }
}
