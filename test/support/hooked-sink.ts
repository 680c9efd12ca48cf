import type { EntityTarget, PartitionBatch, PreparedApply, Sink } from '../../runtime/sink/sink.ts';

/** What a HookedSink does around its inner sink's applies. */
export interface ApplyHooks {
  /** Awaited before every apply, prepared or not: a test holds the runner in the middle of one. */
  beforeApply?: (batches: readonly PartitionBatch[]) => Promise<void>;
  /** Called when a plain `apply` failed, before the runner sees the error. */
  onApplyError?: (batches: readonly PartitionBatch[]) => void;
}

/**
 * A sink that does what the one it wraps does, and calls a test's hooks at exact moments of an
 * apply (the runner is about to dead-letter an event, a replay has started), with real servers
 * behind both.
 */
export class HookedSink implements Sink {
  constructor(
    private readonly inner: Sink,
    private readonly hooks: ApplyHooks,
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
    await this.hooks.beforeApply?.(batches);
    try {
      await this.inner.apply(batches);
    } catch (err) {
      this.hooks.onApplyError?.(batches);
      throw err;
    }
  }
  get prepare(): ((batches: readonly PartitionBatch[]) => PreparedApply | undefined) | undefined {
    const prepare = this.inner.prepare?.bind(this.inner);
    if (!prepare) return undefined;
    return (batches) => {
      const prepared = prepare(batches);
      return (
        prepared &&
        (async () => {
          await this.hooks.beforeApply?.(batches);
          await prepared();
        })
      );
    };
  }
  isTransient(error: unknown): boolean {
    return this.inner.isTransient(error);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
