import { Gauge, type Registry } from 'prom-client';
import { PARTITION_STATES } from './partition-state.ts';
import type { PipelineView } from './pipeline-view.ts';

/**
 * Every metric name the monitor exports, for the alert rules and dashboards built on them (a
 * test checks that every expression there names one of these).
 */
export const MONITOR_METRICS = {
  lagEntries: 'cdc_sink_partition_lag_entries',
  lagSeconds: 'cdc_sink_partition_lag_seconds',
  pending: 'cdc_sink_partition_pending_entries',
  applyRate: 'cdc_sink_partition_apply_rate',
  state: 'cdc_sink_partition_state',
  stateCode: 'cdc_sink_partition_state_code',
  quarantined: 'cdc_sink_partition_quarantined_keys',
  trimmedUnread: 'cdc_sink_partition_retention_trimmed_unread',
  partitionNode: 'cdc_partition_node_info',
  deadLetters: 'cdc_sink_dead_letters',
  instances: 'cdc_sink_live_instances',
  sampleAge: 'cdc_monitor_sample_age_seconds',
  sampleFailing: 'cdc_monitor_sample_failing',
} as const;

/**
 * Exports the monitor's latest view as gauges, set when Prometheus scrapes: one process (the
 * capture service) reports every sink, the stopped ones included, with the numbers of the lag
 * page and of `cdc lag`. Series of partitions or sinks that are gone disappear with them.
 */
export function registerMonitorMetrics(
  latest: () => PipelineView | undefined,
  registry: Registry,
): void {
  const partitionLabels = ['sink', 'entity', 'partition'] as const;
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });

  // Registered first: its collect callback, run when a scrape reaches it, sets every other gauge
  // from the latest view before the registry reads them.
  const sampleAge = new Gauge({
    name: MONITOR_METRICS.sampleAge,
    help: 'Seconds since the monitor’s figures were read',
    registers: [registry],
    collect,
  });
  const lagEntries = gauge(
    MONITOR_METRICS.lagEntries,
    'Entries a sink has not applied, per partition (NaN while Redis cannot tell), as `cdc lag` reports them',
    partitionLabels,
  );
  const lagSeconds = gauge(
    MONITOR_METRICS.lagSeconds,
    'Age of the oldest entry a sink has not applied, per partition, seconds',
    partitionLabels,
  );
  const pending = gauge(
    MONITOR_METRICS.pending,
    'Entries delivered to a sink and not acknowledged, per partition',
    partitionLabels,
  );
  const applyRate = gauge(
    MONITOR_METRICS.applyRate,
    'Entries a sink applied per second over the monitor window, per partition',
    partitionLabels,
  );
  const state = gauge(
    MONITOR_METRICS.state,
    'A partition state judged over the monitor window: 1 for the current state (ok, lagging, stalled, stopped), 0 for the others',
    [...partitionLabels, 'state'],
  );
  const stateCode = gauge(
    MONITOR_METRICS.stateCode,
    'The same state as one number: 0 ok, 1 lagging, 2 stalled, 3 stopped',
    partitionLabels,
  );
  const quarantined = gauge(
    MONITOR_METRICS.quarantined,
    'Keys a sink holds back behind a dead-lettered event, per partition',
    partitionLabels,
  );
  const trimmedUnread = gauge(
    MONITOR_METRICS.trimmedUnread,
    '1 when retention removed entries the sink had not read yet, per partition',
    partitionLabels,
  );
  // The node is a property of the partition, not of a sink's lag: an info series of its own
  // (value 1), joined on entity and partition where wanted, e.g. lag per node:
  // `max by (node) (cdc_sink_partition_lag_seconds * on (entity, partition) group_left (node)
  // cdc_partition_node_info)`. On the lag gauges themselves, a failover would end every lag
  // series and start new ones.
  const partitionNode = gauge(
    MONITOR_METRICS.partitionNode,
    'The Redis node serving a partition (on a Redis Cluster the master of its slot, on one server that server), as host:port in the node label; always 1',
    ['entity', 'partition', 'node'],
  );
  const deadLetters = gauge(MONITOR_METRICS.deadLetters, 'Entries in a sink’s dead-letter stream', [
    'sink',
  ]);
  const instances = gauge(
    MONITOR_METRICS.instances,
    'Instances of a sink whose heartbeat has not run out',
    ['sink'],
  );
  const sampleFailing = gauge(
    MONITOR_METRICS.sampleFailing,
    '1 when the monitor’s last read of Redis failed (its figures are then older)',
    [],
  );
  const all = [
    lagEntries,
    lagSeconds,
    pending,
    applyRate,
    state,
    stateCode,
    quarantined,
    trimmedUnread,
    partitionNode,
    deadLetters,
    instances,
  ];

  function collect(): void {
    for (const g of all) g.reset();
    const view = latest();
    if (!view) return;
    sampleAge.set((Date.now() - view.at) / 1000);
    sampleFailing.set(view.error === null ? 0 : 1);
    for (const p of view.partitions) {
      const l = { sink: p.sink, entity: p.entity, partition: String(p.partition) };
      lagEntries.set(l, p.behind ?? Number.NaN);
      lagSeconds.set(l, p.secondsBehind);
      pending.set(l, p.pending);
      if (p.applyRate !== null) applyRate.set(l, p.applyRate);
      for (const s of PARTITION_STATES) state.set({ ...l, state: s }, s === p.state ? 1 : 0);
      stateCode.set(l, PARTITION_STATES.indexOf(p.state));
      quarantined.set(l, p.quarantinedCount);
      trimmedUnread.set(l, p.trimmedUnread ? 1 : 0);
      // One series per partition whatever the number of sinks reading it; none while unknown.
      if (p.node !== null)
        partitionNode.set({ entity: p.entity, partition: String(p.partition), node: p.node }, 1);
    }
    for (const s of view.sinks) {
      deadLetters.set({ sink: s.sink }, s.deadLetters);
      instances.set(
        { sink: s.sink },
        view.instances.filter((i) => i.sink === s.sink && i.live).length,
      );
    }
  }
}
