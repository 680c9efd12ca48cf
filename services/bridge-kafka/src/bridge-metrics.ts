import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Instrumentation } from '../../../runtime/instrumentation/instrumentation.ts';
import './bridge-events.ts';

/**
 * Subscribes the bridge's Prometheus metrics to its `bridge.*` events (the runner's `sink.*`
 * metrics come from runtime/sink/sink-metrics.ts on the same registry).
 */
export function registerBridgeMetrics(instrumentation: Instrumentation, registry: Registry): void {
  const producedOffset = new Gauge({
    name: 'cdc_bridge_produced_offset',
    help: 'Offset of the last record the bridge committed, per topic partition',
    labelNames: ['sink', 'topic', 'partition'],
    registers: [registry],
  });
  const records = new Counter({
    name: 'cdc_bridge_records_produced_total',
    help: 'Records committed, per topic (offset records included)',
    labelNames: ['sink', 'topic'],
    registers: [registry],
  });
  const committed = new Counter({
    name: 'cdc_bridge_transactions_committed_total',
    help: 'Kafka transactions committed (one per source partition batch)',
    labelNames: ['sink', 'entity'],
    registers: [registry],
  });
  const aborted = new Counter({
    name: 'cdc_bridge_transactions_aborted_total',
    help: 'Kafka transactions that failed and were aborted',
    labelNames: ['sink', 'entity'],
    registers: [registry],
  });
  const transactionSeconds = new Histogram({
    name: 'cdc_bridge_transaction_seconds',
    help: 'From the first record sent to the commit, per transaction',
    labelNames: ['sink'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const fenced = new Counter({
    name: 'cdc_bridge_producer_fenced_total',
    help: 'Producers fenced by a later producer of the same source partition',
    labelNames: ['sink', 'entity'],
    registers: [registry],
  });
  const started = new Counter({
    name: 'cdc_bridge_producer_started_total',
    help: 'Producers started (each fences every earlier producer of its source partition)',
    labelNames: ['sink', 'entity'],
    registers: [registry],
  });

  instrumentation.on('bridge.produced', (e) => {
    producedOffset.set(
      { sink: e.sink, topic: e.topic, partition: String(e.partition) },
      Number(e.offset),
    );
    records.inc({ sink: e.sink, topic: e.topic }, e.messages);
  });
  instrumentation.on('bridge.transaction.committed', (e) => {
    committed.inc({ sink: e.sink, entity: e.entity });
    transactionSeconds.observe({ sink: e.sink }, e.durationMs / 1000);
  });
  instrumentation.on('bridge.transaction.aborted', (e) =>
    aborted.inc({ sink: e.sink, entity: e.entity }),
  );
  instrumentation.on('bridge.producer.fenced', (e) =>
    fenced.inc({ sink: e.sink, entity: e.entity }),
  );
  instrumentation.on('bridge.producer.started', (e) =>
    started.inc({ sink: e.sink, entity: e.entity }),
  );
}
