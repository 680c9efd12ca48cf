import type { EntityTarget, PartitionBatch, PreparedApply, Sink } from '../../runtime/sink/sink.ts';

/**
 * Times and counts `apply` calls of the wrapped sink, and runs of what its `prepare` returned
 * (the time to prepare is not counted: it overlaps the apply before); everything else passes
 * through.
 */
export class TimedSink implements Sink {
  /** ms spent inside apply. */
  applyMs = 0;
  applies = 0;
  /** Events handed to apply. */
  events = 0;

  constructor(private readonly inner: Sink) {}

  get name(): string {
    return this.inner.name;
  }
  get readsPayloads(): boolean | undefined {
    return this.inner.readsPayloads;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    return this.inner.ensureTargets(targets);
  }
  readOffsets(): Promise<Map<string, string>> {
    return this.inner.readOffsets();
  }
  apply(batches: readonly PartitionBatch[]): Promise<void> {
    return this.timed(batches, () => this.inner.apply(batches));
  }
  get prepare(): ((batches: readonly PartitionBatch[]) => PreparedApply | undefined) | undefined {
    const prepare = this.inner.prepare?.bind(this.inner);
    if (!prepare) return undefined;
    return (batches) => {
      const prepared = prepare(batches);
      return prepared && (() => this.timed(batches, prepared));
    };
  }
  private async timed(batches: readonly PartitionBatch[], action: () => Promise<void>) {
    const started = performance.now();
    try {
      await action();
    } finally {
      this.applyMs += performance.now() - started;
      this.applies++;
      this.events += batches.reduce((n, b) => n + b.events.length, 0);
    }
  }
  isTransient(error: unknown): boolean {
    return this.inner.isTransient(error);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
