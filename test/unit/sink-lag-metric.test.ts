import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { entriesBehind } from '../../runtime/lag.ts';
import { registerSinkMetrics } from '../../runtime/sink/sink-metrics.ts';

async function lagEntries(registry: Registry): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('cdc_sink_lag_entries')?.get();
  return metric?.values[0]?.value;
}

test('a backlog Redis cannot count is unknown in the metric (NaN), as in cdc lag, never 0', async () => {
  const instrumentation = new Instrumentation();
  const registry = new Registry();
  registerSinkMetrics(instrumentation, registry);
  const lag = { sink: 'pg', entity: 'todo', partition: 0, oldestAgeMs: 1500 };
  instrumentation.emit('sink.lag', { ...lag, entries: 42 });
  assert.equal(await lagEntries(registry), 42);
  instrumentation.emit('sink.lag', { ...lag, entries: undefined });
  assert.ok(Number.isNaN(await lagEntries(registry)));
});

test('entries behind are undelivered plus pending, unknown when Redis does not know the lag', () => {
  const group = { name: 'pg', lastDelivered: '5-0', pending: 3 };
  assert.equal(entriesBehind({ ...group, lag: 10 }), 13);
  assert.equal(entriesBehind({ ...group, lag: 0 }), 3);
  assert.equal(entriesBehind({ ...group, lag: undefined }), undefined);
});

test('the node a partition is read from is one series per partition, moved when the partition moves', async () => {
  const instrumentation = new Instrumentation();
  const registry = new Registry();
  registerSinkMetrics(instrumentation, registry);
  const nodes = async (): Promise<string[]> =>
    ((await registry.getSingleMetric('cdc_sink_partition_node_info')?.get())?.values ?? []).map(
      (v) => `${v.labels.partition}@${v.labels.node}=${v.value}`,
    );
  const lag = { sink: 'pg', entity: 'todo', entries: 0, oldestAgeMs: 0 };
  instrumentation.emit('sink.lag', { ...lag, partition: 0, node: '10.0.0.1:7000' });
  instrumentation.emit('sink.lag', { ...lag, partition: 1, node: '10.0.0.2:7001' });
  assert.deepEqual(await nodes(), ['0@10.0.0.1:7000=1', '1@10.0.0.2:7001=1']);
  // A failover or a reshard moved partition 0: its old series goes.
  instrumentation.emit('sink.lag', { ...lag, partition: 0, node: '10.0.0.3:7002' });
  assert.deepEqual(await nodes(), ['1@10.0.0.2:7001=1', '0@10.0.0.3:7002=1']);
  // A source that does not say leaves the last known node.
  instrumentation.emit('sink.lag', { ...lag, partition: 1 });
  assert.deepEqual(await nodes(), ['1@10.0.0.2:7001=1', '0@10.0.0.3:7002=1']);
});
