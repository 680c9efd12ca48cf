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
