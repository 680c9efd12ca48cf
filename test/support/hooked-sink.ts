import type { EntityTarget, PartitionBatch, PreparedApply, Sink } from '../../runtime/sink/sink.ts';

/**
 * A sink that does what the one it wraps does, and calls `onApplyError` when a plain `apply`
 * fails, before the runner sees the error: a test does something at that exact moment (the
 * runner is about to dead-letter the event), with real servers behind both.
 */
export class HookedSink implements Sink {
  constructor(
    private readonly inner: Sink,
    private readonly onApplyError: (batches: readonly PartitionBatch[]) => void,
  ) {}

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
    try {
      await this.inner.apply(batches);
    } catch (err) {
      this.onApplyError(batches);
      throw err;
    }
  }
  get prepare(): ((batches: readonly PartitionBatch[]) => PreparedApply | undefined) | undefined {
    return this.inner.prepare?.bind(this.inner);
  }
  isTransient(error: unknown): boolean {
    return this.inner.isTransient(error);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
