import { compareStreamIds, ZERO_ID } from '../stream-id.ts';
import type { Sink } from './sink.ts';

/** An entry as the offsets see it: its position, and whether the stream still holds it. */
export interface PositionedEntry {
  readonly id: string;
  /** Deleted from the stream after it was delivered (Redis sent no fields). */
  readonly deleted: boolean;
}

/**
 * The one owner of a partition's position while this instance holds it: the offset committed in
 * the target, where the next read starts, and how often entries pending at takeover had been
 * delivered. Takeover creates it from the target's offset, planning asks it what is due, the
 * acknowledgement moves it forward, a replay moves it back, a failure makes it read its pending
 * entries again. Nothing else keeps a copy.
 */
export class PartitionOffsets {
  private committedId: string;
  private cursorId: string;
  private readonly deliveries: Map<string, number>;

  /**
   * @param committed the offset stored in the target (`0-0`: nothing applied)
   * @param deliveries delivery counts of the entries pending for this consumer at takeover
   */
  constructor(committed: string = ZERO_ID, deliveries: ReadonlyMap<string, number> = new Map()) {
    this.committedId = committed;
    // Every entry pending for this consumer comes first, from the very start: those at or below
    // the committed offset (an earlier owner applied them, then died before acknowledging) are
    // acknowledged without being applied. Read from `committed`, they would stay pending for
    // good, and the group's lag would never reach 0.
    this.cursorId = ZERO_ID;
    this.deliveries = new Map(deliveries);
  }

  /** Highest position committed in the target: everything at or below it is applied. */
  get committed(): string {
    return this.committedId;
  }

  /**
   * Where the next read of this consumer's pending entries starts, or `>` once they are all
   * read and only new entries are left.
   */
  get cursor(): string {
    return this.cursorId;
  }

  /** True once only new entries are left to read. */
  get caughtUp(): boolean {
    return this.cursorId === NEW_ENTRIES;
  }

  /** A read of pending entries returned these ids: the next starts after them, or with new ones. */
  pendingRead(ids: readonly string[]): void {
    this.cursorId = ids.length === 0 ? NEW_ENTRIES : ids.at(-1)!;
  }

  /**
   * After a failed turn: entries may have been delivered to this consumer and never applied (a
   * reply lost with its connection, a batch that failed half way, a read ahead thrown away), and
   * reading new entries would skip them for good. Read pending entries above the committed
   * offset first, as at takeover.
   */
  readPendingAgain(): void {
    this.cursorId = this.committedId;
  }

  /**
   * The ids of a read's entries (all of them: they are acknowledged together) and the entries
   * still to be done: not deleted from the stream since, and above the committed offset. Entries
   * come in stream order, so once one is above it all later ones are.
   */
  due<E extends PositionedEntry>(entries: readonly E[]): { ids: string[]; due: E[] } {
    const ids: string[] = new Array(entries.length);
    const due: E[] = [];
    let above = false;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      ids[i] = entry.id;
      above ||= compareStreamIds(entry.id, this.committedId) > 0;
      if (above && !entry.deleted) due.push(entry);
    }
    return { ids, due };
  }

  /** How often the entry had been delivered when the partition was taken (0: not pending then). */
  deliveriesOf(id: string): number {
    return this.deliveries.get(id) ?? 0;
  }

  /** The target holds everything up to `id` now. Offsets only move forward here. */
  committedTo(id: string): void {
    if (compareStreamIds(id, this.committedId) > 0) this.committedId = id;
  }

  /** These entries are acknowledged: their delivery counts are of no use any more. */
  acknowledged(ids: readonly string[]): void {
    if (this.deliveries.size === 0) return;
    for (const id of ids) this.deliveries.delete(id);
  }

  /**
   * A replay: the target's offset was moved back to `id` and the group with it; new entries are
   * read from there, in order. (Reading pending ones first would apply later entries before
   * earlier ones and move the offset past the replay.)
   */
  rewindTo(id: string): void {
    this.committedId = id;
    this.cursorId = NEW_ENTRIES;
  }

  /**
   * Takes the offset stored in the target when it is ahead of what this instance knows: another
   * owner committed meanwhile (this one lost the partition for a while), so what it fences off
   * must not be applied or refused again here.
   */
  refreshFrom(stored: ReadonlyMap<string, string>, partitionId: string): void {
    const offset = stored.get(partitionId);
    if (offset !== undefined) this.committedTo(offset);
  }

  /** `refreshFrom` for several partitions with one read of the target's offsets. */
  static async refreshAll(
    sink: Pick<Sink, 'readOffsets'>,
    partitions: Iterable<readonly [string, PartitionOffsets]>,
  ): Promise<void> {
    const stored = await sink.readOffsets();
    for (const [id, offsets] of partitions) offsets.refreshFrom(stored, id);
  }
}

/** XREADGROUP's id for entries never delivered to the group. */
const NEW_ENTRIES = '>';
