import type { PartitionBatch } from '../../runtime/sink/sink.ts';
import { WrappedSink } from '../../runtime/sink/wrapped-sink.ts';

/**
 * Times and counts `apply` calls of the wrapped sink, and runs of what its `prepare` returned
 * (the time to prepare is not counted: it overlaps the apply before); everything else passes
 * through.
 */
export class TimedSink extends WrappedSink {
  /** ms spent inside apply. */
  applyMs = 0;
  applies = 0;
  /** Events handed to apply. */
  events = 0;

  protected async around(
    batches: readonly PartitionBatch[],
    apply: () => Promise<void>,
  ): Promise<void> {
    const started = performance.now();
    try {
      await apply();
    } finally {
      this.applyMs += performance.now() - started;
      this.applies++;
      this.events += batches.reduce((n, b) => n + b.events.length, 0);
    }
  }
}
