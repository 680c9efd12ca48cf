import type { Capture } from '../../runtime/capture/capture.ts';
import type { PartitionBatch } from '../../runtime/sink/sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { type Backlog, ENTITY } from './backlog.ts';
import type { DrainResult } from './drain-result.ts';
import { perStream } from './reads.ts';

/**
 * PostgresSink.apply on its own: the sink's database code fed the raw baseline's transactions as
 * the runner hands events over (same grouping, same ids; payload and writer schema, which the
 * sink transcodes), no runner and no Redis. Between the raw
 * baseline and this lies what the sink's database code adds (offset lock, per-event version
 * checks, parameter mapping); between this and the in-process runner, what the runner adds.
 */
export async function directApply(
  url: string,
  capture: Capture,
  pgSchema: string,
  backlog: Backlog,
  batchSize: number,
): Promise<DrainResult> {
  const sink = new PostgresSink({ url, schema: pgSchema, name: 'direct', poolSize: 1 });
  await sink.connect();
  try {
    await sink.ensureTargets([
      { entity: ENTITY, schema: capture.schemaOf(ENTITY), keyField: 'id' },
    ]);
    const capturedAt = Date.now();
    const writer = capture.schemaOf(ENTITY);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const share = perStream(batchSize);
    for (let from = 0; ; from += share) {
      const batches: PartitionBatch[] = [];
      backlog.partitions.forEach((events, partition) => {
        const slice = events.slice(from, from + share);
        if (slice.length === 0) return;
        batches.push({
          entity: ENTITY,
          partition,
          offset: slice.at(-1)!.id,
          events: slice.map((e) => ({
            id: e.id,
            op: 'upsert',
            entity: ENTITY,
            key: e.key,
            record: e.record,
            payload: e.payload,
            writer,
            capturedAt,
          })),
        });
      });
      if (batches.length === 0) break;
      await sink.apply(batches);
    }
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const events = backlog.partitions.reduce((n, list) => n + list.length, 0);
    return {
      eventsPerSecond: events / (elapsed / 1000),
      ms: elapsed,
      cpuMicrosPerEvent: (used.user + used.system) / events,
    };
  } finally {
    await sink.close();
  }
}
