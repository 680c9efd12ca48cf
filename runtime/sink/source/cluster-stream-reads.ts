import type { Cluster } from 'ioredis';
import { type PartitionRef, partitionIdOf } from '../../partition-id.ts';
import { ClusterPartitionReader } from './cluster-partition-reader.ts';
import type { ReadPosition, SourceBatch, SourceRead } from './event-source.ts';
import { StreamRead } from './stream-read.ts';
import {
  countPerPartition,
  NEW_ENTRIES,
  type StreamReads,
  type StreamReadsContext,
} from './stream-reads.ts';

/**
 * The partition streams of a Redis Cluster, each read over a connection of its own to its
 * slot's master (`ClusterPartitionReader`), all partitions side by side.
 *
 * Waiting differs from one server's single blocking read over every stream (which a cluster
 * refuses across slots): each partition with nothing new waits on its own connection, and the
 * read ends as soon as one of them sees an entry. The others keep waiting across reads: a
 * partition whose wait is still in progress has had nothing new since, so it is not read
 * again until its wait ends, and anything arriving there ends it at once. A takeover, a replay
 * or a read of pending entries ends a partition's wait first (`moved`), since the group's
 * position it waits from is no longer where the partition reads.
 */
export class ClusterStreamReads implements StreamReads {
  private readonly readers = new Map<string, ClusterPartitionReader>();

  constructor(
    private readonly cluster: Cluster,
    private readonly context: StreamReadsContext,
  ) {}

  async read(partitions: readonly ReadPosition[]): Promise<SourceBatch> {
    this.forgetAllBut(partitions);
    const behind = partitions.filter((p) => !p.offsets.caughtUp);
    if (behind.length > 0) {
      const count = countPerPartition(this.context.batchSize, behind.length);
      const results = await Promise.all(
        behind.map((p) => this.reader(p.ref).read(p.offsets.cursor, count)),
      );
      const reads: SourceRead[] = [];
      const refused: PartitionRef[] = [];
      results.forEach((result, i) => {
        const position = behind[i]!;
        // A refused partition read nothing: where it stood does not matter, it is dropped.
        if (result.kind === 'refused') {
          refused.push(position.ref);
          return;
        }
        const entries = result.kind === 'read' ? result.entries : undefined;
        position.offsets.pendingRead(entries?.ids ?? []);
        if (entries) reads.push(new StreamRead(position.ref, entries));
      });
      return { reads, refused };
    }
    const count = countPerPartition(this.context.batchSize, partitions.length);
    const first = await this.readNew(
      partitions.filter((p) => !this.reader(p.ref).waiting),
      count,
    );
    // A refused partition is reported at once (not after a wait) so the runner drops it.
    if (first.reads.length > 0 || first.refused.length > 0 || partitions.length === 0) return first;
    for (const p of partitions) this.reader(p.ref).startWait();
    await Promise.race(partitions.map((p) => this.reader(p.ref).waited()));
    return this.readNew(
      partitions.filter((p) => !this.reader(p.ref).waiting),
      count,
    );
  }

  moved(ref: PartitionRef): void {
    this.readers.get(partitionIdOf(ref))?.endWait();
  }

  close(): void {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
  }

  /** New entries of these partitions (whose waits, if any, are over), side by side. */
  private async readNew(positions: readonly ReadPosition[], count: number): Promise<SourceBatch> {
    const results = await Promise.all(
      positions.map((p) => this.reader(p.ref).read(NEW_ENTRIES, count)),
    );
    const reads: SourceRead[] = [];
    const refused: PartitionRef[] = [];
    results.forEach((result, i) => {
      const { ref } = positions[i]!;
      if (result.kind === 'refused') refused.push(ref);
      else if (result.kind === 'read' && result.entries)
        reads.push(new StreamRead(ref, result.entries));
    });
    return { reads, refused };
  }

  private reader(ref: PartitionRef): ClusterPartitionReader {
    const id = partitionIdOf(ref);
    let reader = this.readers.get(id);
    if (!reader) {
      reader = new ClusterPartitionReader(
        this.cluster,
        this.context.stream(ref),
        this.context.lease(ref),
        this.context.group,
        this.context.consumer,
        this.context.blockMs,
      );
      this.readers.set(id, reader);
    }
    return reader;
  }

  /** Partitions no longer owned close their connections. */
  private forgetAllBut(partitions: readonly ReadPosition[]): void {
    const kept = new Set(partitions.map((p) => partitionIdOf(p.ref)));
    for (const [id, reader] of this.readers)
      if (!kept.has(id)) {
        reader.close();
        this.readers.delete(id);
      }
  }
}
