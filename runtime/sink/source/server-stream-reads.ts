import type { PartitionRef } from '../../partition-id.ts';
import { streamEntries } from '../../resp/stream-entries.ts';
import type { StreamReadConnection } from '../../resp/stream-read-connection.ts';
import type { ReadPosition, SourceBatch, SourceRead } from './event-source.ts';
import { LeasedStreamRead } from './leased-stream-read.ts';
import { StreamRead } from './stream-read.ts';
import {
  countPerPartition,
  NEW_ENTRIES,
  READ_TIMEOUT_MARGIN_MS,
  type StreamReads,
  type StreamReadsContext,
} from './stream-reads.ts';

/**
 * The partition streams of one Redis server, read over one connection of their own: every
 * owned partition in one lease-checked exchange (`LeasedStreamRead`), and when none had
 * anything new, one `XREAD BLOCK` over all of them.
 */
export class ServerStreamReads implements StreamReads {
  private readonly leased: LeasedStreamRead;

  constructor(
    private readonly reader: StreamReadConnection,
    private readonly context: StreamReadsContext,
  ) {
    this.leased = new LeasedStreamRead(reader, context.group, context.consumer);
  }

  async read(partitions: readonly ReadPosition[]): Promise<SourceBatch> {
    const behind = partitions.filter((p) => !p.offsets.caughtUp);
    if (behind.length > 0) {
      // This consumer's own pending entries first, in order, without blocking.
      const batch = await this.readGroup(
        behind,
        behind.map((p) => p.offsets.cursor),
      );
      for (const position of behind) {
        // A refused partition read nothing: where it stood does not matter, it is dropped.
        if (batch.refused.includes(position.ref)) continue;
        position.offsets.pendingRead(batch.reads.find((r) => r.ref === position.ref)?.ids ?? []);
      }
      return { reads: batch.reads, refused: batch.refused };
    }
    const cursors = partitions.map(() => NEW_ENTRIES);
    const batch = await this.readGroup(partitions, cursors);
    // A refused partition is reported at once (not after a wait) so the runner drops it.
    if (batch.reads.length > 0 || batch.refused.length > 0 || batch.waitFrom.length === 0)
      return { reads: batch.reads, refused: batch.refused };
    // Nothing new anywhere: wait without reading through the group (a blocking XREADGROUP
    // would deliver whatever arrives to this consumer whether or not it still holds the
    // leases by then), from each group's last-delivered id so nothing added meanwhile is
    // missed.
    const { waitFrom } = batch;
    const { blockMs } = this.context;
    const streams = waitFrom.map((position) => this.context.stream(position.ref));
    const from = await this.leased.waitPoints(streams, blockMs + READ_TIMEOUT_MARGIN_MS);
    const woken = await this.reader.command(
      ['XREAD', 'COUNT', 1, 'BLOCK', blockMs, 'STREAMS', ...streams, ...from],
      blockMs + READ_TIMEOUT_MARGIN_MS,
    );
    if (streamEntries(woken).length === 0) return { reads: [], refused: [] };
    const again = await this.readGroup(
      waitFrom,
      waitFrom.map(() => NEW_ENTRIES),
    );
    return { reads: again.reads, refused: again.refused };
  }

  /** A wait is one blocking read over every partition, made and ended within `read`. */
  moved(): void {}

  /**
   * One lease-checked XREADGROUP per partition from these cursors, never blocking. Besides the
   * reads: the partitions refused (lease gone) and those whose read of new entries found none
   * (where to wait for more).
   */
  private async readGroup(
    partitions: readonly ReadPosition[],
    cursors: readonly string[],
  ): Promise<GroupRead> {
    const { blockMs, batchSize } = this.context;
    const results = await this.leased.read(
      partitions.map((p, i) => ({
        stream: this.context.stream(p.ref),
        lease: this.context.lease(p.ref),
        cursor: cursors[i]!,
      })),
      countPerPartition(batchSize, partitions.length),
      // A reply that does not come well after the block time means a dead connection.
      blockMs + READ_TIMEOUT_MARGIN_MS,
    );
    const reads: SourceRead[] = [];
    const refused: PartitionRef[] = [];
    const waitFrom: ReadPosition[] = [];
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      const position = partitions[i]!;
      if (result.kind === 'refused') refused.push(position.ref);
      else if (result.kind === 'nothing-new') waitFrom.push(position);
      else if (result.entries) reads.push(new StreamRead(position.ref, result.entries));
    }
    return { reads, refused, waitFrom };
  }

  close(): void {
    this.reader.close();
  }
}

/** A lease-checked read of several partitions. */
interface GroupRead extends SourceBatch {
  /** Partitions where a read of new entries found none. */
  readonly waitFrom: readonly ReadPosition[];
}
