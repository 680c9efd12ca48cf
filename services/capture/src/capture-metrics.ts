import { Counter, Histogram, type Registry } from 'prom-client';
import type { Instrumentation } from '../../../runtime/instrumentation/instrumentation.ts';

type WriteLabels = Record<'entity' | 'op' | 'duplicate', string>;

/** Subscribes Prometheus metrics to the capture's instrumentation events. */
export function registerCaptureMetrics(instrumentation: Instrumentation, registry: Registry): void {
  // prom-client checks and hashes the labels of every inc: writes are counted here in plain
  // numbers per label set, handed to the counter when it is scraped.
  const counted = new Map<string, { labels: WriteLabels; count: number }>();
  new Counter({
    name: 'cdc_capture_writes_total',
    help: 'Change events written (duplicate="true": an idempotent repeat that wrote nothing)',
    labelNames: ['entity', 'op', 'duplicate'],
    registers: [registry],
    collect() {
      for (const tally of counted.values()) {
        if (tally.count === 0) continue;
        this.inc(tally.labels, tally.count);
        tally.count = 0;
      }
    },
  });
  const latency = new Histogram({
    name: 'cdc_capture_write_seconds',
    help: 'Time of the atomic cache-and-log write',
    labelNames: ['entity'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'cdc_capture_rejected_total',
    help: 'Writes refused before anything was written, by error code',
    labelNames: ['entity', 'code'],
    registers: [registry],
  });
  const through = new Histogram({
    name: 'cdc_capture_write_through_wait_seconds',
    help: 'Time write-through calls waited for the sinks',
    labelNames: ['entity', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  instrumentation.on('capture.written', (e) => {
    const id = `${e.entity}\u0000${e.op}\u0000${e.duplicate}`;
    let tally = counted.get(id);
    if (!tally) {
      tally = { labels: { entity: e.entity, op: e.op, duplicate: String(e.duplicate) }, count: 0 };
      counted.set(id, tally);
    }
    tally.count++;
    latency.observe({ entity: e.entity }, e.durationMs / 1000);
  });
  const perCall = new Histogram({
    name: 'cdc_capture_writes_per_call',
    help: 'Writes per capture-write script call: concurrent single writes of a partition go together (group commit)',
    labelNames: ['entity'],
    buckets: [1, 2, 4, 8, 16, 32, 50],
    registers: [registry],
  });
  instrumentation.on('capture.called', (e) => perCall.observe({ entity: e.entity }, e.writes));
  instrumentation.on('capture.rejected', (e) => rejected.inc({ entity: e.entity, code: e.code }));
  instrumentation.on('capture.through.waited', (e) =>
    through.observe(
      { entity: e.entity, outcome: e.timedOut ? 'timeout' : 'applied' },
      e.durationMs / 1000,
    ),
  );
}
