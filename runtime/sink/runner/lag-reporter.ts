import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import type { EventSource } from '../source/event-source.ts';
import type { OwnedPartition } from './owned-partition.ts';

/**
 * Emits `sink.lag` for the partitions this instance owns, from what it has committed (only when
 * someone listens: it costs two round trips per partition). The numbers are `runtime/lag.ts`'s,
 * as `cdc lag` shows them; an unknown backlog stays unknown (`entries` undefined).
 */
export class LagReporter {
  constructor(
    private readonly sinkName: string,
    private readonly source: EventSource,
    private readonly instrumentation: Instrumentation,
  ) {}

  async report(partitions: Iterable<OwnedPartition>): Promise<void> {
    if (!this.instrumentation.has('sink.lag')) return;
    for (const { ref, offsets } of partitions) {
      const lag = await this.source.lag(ref, offsets.committed);
      if (!lag) continue;
      this.instrumentation.emit('sink.lag', {
        sink: this.sinkName,
        ...ref,
        entries: lag.behind,
        oldestAgeMs: lag.oldestUnappliedMs,
        node: this.source.location?.(ref),
      });
    }
  }
}
