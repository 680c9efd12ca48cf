import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { registerMonitorMetrics } from '../../runtime/monitor/monitor-metrics.ts';
import type { PartitionView, PipelineView } from '../../runtime/monitor/pipeline-view.ts';

const partition = (p: Partial<PartitionView>): PartitionView => ({
  sink: 'pg',
  entity: 'todo',
  partition: 0,
  applied: '5-0',
  behind: 3,
  secondsBehind: 1.5,
  pending: 1,
  state: 'ok',
  applyRate: 10,
  writeRate: 10,
  catchUpSeconds: null,
  owner: 'a',
  node: '10.0.0.1:7000',
  quarantined: [],
  quarantinedCount: 0,
  trimmedUnread: false,
  ...p,
});

function view(partitions: PartitionView[]): PipelineView {
  return {
    at: Date.now(),
    sampleMs: 1000,
    windowMs: 5000,
    historyMs: 60_000,
    error: null,
    sinks: [
      {
        sink: 'pg',
        deadLetters: 4,
        states: { ok: 0, lagging: 0, stalled: 0, stopped: 0 },
        chart: [],
      },
    ],
    partitions,
    instances: [],
  };
}

test('the state gauge is 1 for the current state only, the code says which, unknown lag is NaN, each partition names its node', async () => {
  let current = view([
    partition({ state: 'stalled' }),
    partition({ partition: 1, behind: null, state: 'stopped', owner: null, node: null }),
    partition({ sink: 'mongo', state: 'ok' }),
  ]);
  const registry = new Registry();
  registerMonitorMetrics(() => current, registry);
  const text = await registry.metrics();
  const p0 = 'sink="pg",entity="todo",partition="0"';
  assert.match(text, new RegExp(`cdc_sink_partition_state\\{${p0},state="stalled"\\} 1`));
  assert.match(text, new RegExp(`cdc_sink_partition_state\\{${p0},state="ok"\\} 0`));
  assert.match(text, new RegExp(`cdc_sink_partition_state_code\\{${p0}\\} 2`));
  assert.match(
    text,
    /cdc_sink_partition_lag_entries\{sink="pg",entity="todo",partition="1"\} Nan/i,
  );
  assert.match(text, /cdc_sink_dead_letters\{sink="pg"\} 4/);
  // The node of a partition: one series whatever the sinks reading it, none while unknown.
  assert.deepEqual(
    text.split('\n').filter((line) => line.startsWith('cdc_partition_node_info{')),
    ['cdc_partition_node_info{entity="todo",partition="0",node="10.0.0.1:7000"} 1'],
  );

  // A partition that is gone takes its series with it.
  current = view([partition({})]);
  const after = await registry.metrics();
  assert.doesNotMatch(after, /partition="1"/);
  assert.match(after, new RegExp(`cdc_sink_partition_state\\{${p0},state="ok"\\} 1`));
});
