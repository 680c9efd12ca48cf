import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BatchHistogram } from '../instrumentation/batch-histogram.ts';
import type { Instrumentation } from '../instrumentation/instrumentation.ts';

/** Subscribes Prometheus metrics to a sink runner's instrumentation events. */
export function registerSinkMetrics(instrumentation: Instrumentation, registry: Registry): void {
  const labels = ['sink', 'entity'] as const;
  const applied = new Counter({
    name: 'cdc_sink_events_applied_total',
    help: 'Events handed to the target and committed',
    labelNames: labels,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'cdc_sink_batch_size',
    help: 'Events per applied partition batch',
    labelNames: labels,
    buckets: [1, 10, 50, 100, 250, 500, 1000, 5000],
    registers: [registry],
  });
  const applySeconds = new Histogram({
    name: 'cdc_sink_apply_seconds',
    help: 'Time to apply and commit a batch',
    labelNames: ['sink'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const endToEnd = new BatchHistogram({
    name: 'cdc_sink_end_to_end_seconds',
    help: 'From capture to commit in the target',
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'cdc_sink_retries_total',
    help: 'Transient failures retried',
    labelNames: ['sink'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'cdc_sink_dead_letters_total',
    help: 'Events sent to the dead-letter stream',
    labelNames: labels,
    registers: [registry],
  });
  const held = new Counter({
    name: 'cdc_sink_held_total',
    help: 'Events parked behind a quarantined key',
    labelNames: labels,
    registers: [registry],
  });
  const reclaimed = new Counter({
    name: 'cdc_sink_reclaimed_total',
    help: 'Pending entries taken over from earlier owners',
    labelNames: labels,
    registers: [registry],
  });
  const owned = new Gauge({
    name: 'cdc_sink_partitions_owned',
    help: 'Partitions this instance applies',
    labelNames: ['sink'],
    registers: [registry],
  });
  const replays = new Counter({
    name: 'cdc_sink_replays_total',
    help: 'Replays started (a partition consumed again from an earlier offset)',
    labelNames: ['sink', 'entity'],
    registers: [registry],
  });
  const lagEntries = new Gauge({
    name: 'cdc_sink_lag_entries',
    help: 'Entries not yet applied, per partition (NaN while Redis cannot tell)',
    labelNames: ['sink', 'entity', 'partition'],
    registers: [registry],
  });
  const lagSeconds = new Gauge({
    name: 'cdc_sink_lag_seconds',
    help: 'Age of the oldest entry not yet applied, per partition',
    labelNames: ['sink', 'entity', 'partition'],
    registers: [registry],
  });
  // Retention, exported by the instance that trims each partition (the retention lease holder).
  const partitionLabels = ['entity', 'partition'] as const;
  const groupLabels = ['entity', 'partition', 'group'] as const;
  const trimmed = new Counter({
    name: 'cdc_retention_trimmed_entries_total',
    help: 'Entries the retention policy trimmed from the partition streams',
    labelNames: partitionLabels,
    registers: [registry],
  });
  const heldBackEntries = new Gauge({
    name: 'cdc_retention_held_back_entries',
    help: 'Entries kept only because this group still needs them (counted up to a cap)',
    labelNames: groupLabels,
    registers: [registry],
  });
  const heldBackSeconds = new Gauge({
    name: 'cdc_retention_held_back_seconds',
    help: 'Span of log kept only because this group still needs it',
    labelNames: groupLabels,
    registers: [registry],
  });
  const heldBackOverLimit = new Gauge({
    name: 'cdc_retention_held_back_over_limit',
    help: '1 while this group holds retention back past the policy maxHoldBack',
    labelNames: groupLabels,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'cdc_retention_skipped_entries_total',
    help: 'Entries trimmed past this group before it read them (onHoldBack "trim")',
    labelNames: groupLabels,
    registers: [registry],
  });

  instrumentation.on('sink.batch.applied', (e) => {
    applied.inc({ sink: e.sink, entity: e.entity }, e.events);
    batchSize.observe({ sink: e.sink, entity: e.entity }, e.events);
    applySeconds.observe({ sink: e.sink }, e.durationMs / 1000);
    endToEnd.observeMany({ sink: e.sink, entity: e.entity }, e.endToEndMs, 1000);
  });
  instrumentation.on('sink.batch.retried', (e) => retries.inc({ sink: e.sink }));
  instrumentation.on('sink.event.dead-lettered', (e) =>
    deadLetters.inc({ sink: e.sink, entity: e.entity }),
  );
  instrumentation.on('sink.event.held', (e) => held.inc({ sink: e.sink, entity: e.entity }));
  instrumentation.on('sink.entries.reclaimed', (e) =>
    reclaimed.inc({ sink: e.sink, entity: e.entity }, e.count),
  );
  instrumentation.on('sink.partition.acquired', (e) => owned.inc({ sink: e.sink }));
  instrumentation.on('sink.partition.released', (e) => owned.dec({ sink: e.sink }));
  instrumentation.on('sink.partition.replayed', (e) =>
    replays.inc({ sink: e.sink, entity: e.entity }),
  );
  instrumentation.on('retention.trimmed', (e) =>
    trimmed.inc({ entity: e.entity, partition: String(e.partition) }, e.entries),
  );
  instrumentation.on('retention.held-back', (e) => {
    const l = { entity: e.entity, partition: String(e.partition), group: e.group };
    heldBackEntries.set(l, e.entries);
    heldBackSeconds.set(l, e.ageMs / 1000);
    heldBackOverLimit.set(l, e.overLimit ? 1 : 0);
  });
  instrumentation.on('retention.skipped', (e) =>
    skipped.inc({ entity: e.entity, partition: String(e.partition), group: e.group }, e.entries),
  );
  // An info metric rather than a label on the lag gauges: a partition that moves (a failover, a
  // reshard) changes one series here instead of starting new lag series; join it on
  // (sink, entity, partition) to see the lag per node.
  const partitionNode = new Gauge({
    name: 'cdc_sink_partition_node_info',
    help: 'The Redis node (host:port) a partition is read from, as a label (value 1)',
    labelNames: ['sink', 'entity', 'partition', 'node'],
    registers: [registry],
  });
  const nodes = new Map<string, string>();
  instrumentation.on('sink.lag', (e) => {
    const l = { sink: e.sink, entity: e.entity, partition: String(e.partition) };
    // Unknown is not 0: NaN fails every comparison an alert makes, and shows as a gap.
    lagEntries.set(l, e.entries ?? Number.NaN);
    lagSeconds.set(l, e.oldestAgeMs / 1000);
    if (e.node === undefined) return;
    const id = `${e.sink}/${e.entity}/${e.partition}`;
    const before = nodes.get(id);
    if (before === e.node) return;
    if (before !== undefined) partitionNode.remove({ ...l, node: before });
    partitionNode.set({ ...l, node: e.node }, 1);
    nodes.set(id, e.node);
  });
}
