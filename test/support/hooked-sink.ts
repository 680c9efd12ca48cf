import type { PartitionBatch, Sink } from '../../runtime/sink/sink.ts';
import { WrappedSink } from '../../runtime/sink/wrapped-sink.ts';

/** What a HookedSink does around its inner sink's applies. */
export interface ApplyHooks {
  /** Awaited before every apply, prepared or not: a test holds the runner in the middle of one. */
  beforeApply?: (batches: readonly PartitionBatch[]) => Promise<void>;
  /**
   * Called when a plain `apply` failed (as the runner's one-event applies that isolate a failure
   * are), before the runner sees the error.
   */
  onApplyError?: (batches: readonly PartitionBatch[]) => void;
}

/**
 * A sink that does what the one it wraps does, and calls a test's hooks at exact moments of an
 * apply (the runner is about to dead-letter an event, a replay has started), with real servers
 * behind both.
 */
export class HookedSink extends WrappedSink {
  constructor(
    inner: Sink,
    private readonly hooks: ApplyHooks,
  ) {
    super(inner);
  }

  protected async around(
    batches: readonly PartitionBatch[],
    apply: () => Promise<void>,
    prepared: boolean,
  ): Promise<void> {
    await this.hooks.beforeApply?.(batches);
    try {
      await apply();
    } catch (err) {
      if (!prepared) this.hooks.onApplyError?.(batches);
      throw err;
    }
  }
}
