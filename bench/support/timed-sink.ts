import type { EntityTarget, PartitionBatch, Sink } from '../../runtime/sink/sink.ts';

/** Times and counts `apply` calls of the wrapped sink; everything else passes through. */
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
  async apply(batches: readonly PartitionBatch[]): Promise<void> {
    const started = performance.now();
    try {
      await this.inner.apply(batches);
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
