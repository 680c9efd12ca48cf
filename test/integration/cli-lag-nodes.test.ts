import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { Capture } from '../../runtime/capture/capture.ts';
import { registerMonitorMetrics } from '../../runtime/monitor/monitor-metrics.ts';
import { PipelineMonitor } from '../../runtime/monitor/pipeline-monitor.ts';
import { nodeAddress } from '../../runtime/redis-cluster-route.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { runCdc } from '../support/cdc-cli.ts';

const P = 16;

interface LagJson {
  streams: Array<{ sink: string; partition: number; node: string }>;
}

/**
 * Placement as operators see it: `cdc lag` names the Redis node serving each partition (on a
 * cluster the master of its slot, on one server that server), and the lag page's monitor and
 * its metrics name the same. Each node named is asked directly, without cluster routing, for the
 * partition's stream: a node not serving that slot would answer MOVED.
 */
describe('cdc lag, the lag page and the metrics name the node of each partition', () => {
  let redisCtx: TestRedis;
  let capture: Capture;
  let nodes: Map<number, string>;

  before(async () => {
    redisCtx = await createTestRedis('cli_lag_nodes');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    // A sink that was added and never ran: a group on every partition stream, nothing applied.
    for (let p = 0; p < P; p++)
      await redisCtx.redis.xgroup(
        'CREATE',
        capture.keys.stream('todo', p),
        'idle',
        '0',
        'MKSTREAM',
      );
    const { code, out } = await runCdc(redisCtx.capturePrefix, '--json', 'lag', '--sink', 'idle');
    assert.equal(code, 0, out);
    const rows = (JSON.parse(out) as LagJson).streams;
    assert.equal(rows.length, P, out);
    nodes = new Map(rows.map((r) => [r.partition, r.node]));
  });

  after(async () => {
    await capture?.close();
    await redisCtx?.cleanup();
  });

  test('each partition is named with the node that serves its stream', async () => {
    for (const [partition, node] of nodes) {
      const [host, port] = splitAddress(node);
      const direct = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        const groups = (await direct.xinfo(
          'GROUPS',
          capture.keys.stream('todo', partition),
        )) as Array<Array<string | number>>;
        assert.deepEqual(
          groups.map((g) => g[g.indexOf('name') + 1]),
          ['idle'],
          `partition ${partition} on ${node}`,
        );
      } finally {
        direct.disconnect();
      }
    }
  });

  test('on a cluster the 16 partitions are named on all three masters; on one server, that server', async () => {
    const named = new Set(nodes.values());
    const redis = redisCtx.redis;
    if (redis instanceof Cluster) {
      const masters = redis.nodes('master').map(nodeAddress).sort();
      assert.equal(masters.length, 3);
      assert.deepEqual([...named].sort(), masters);
    } else {
      const url = new URL(testEnv.redisUrl);
      assert.deepEqual([...named], [`${url.hostname}:${url.port || 6379}`]);
    }
    // The table shows it last, so the other columns keep their places.
    const table = await runCdc(redisCtx.capturePrefix, 'lag', '--sink', 'idle');
    assert.equal(table.code, 0, table.out);
    const lines = table.out.trim().split('\n');
    assert.match(lines[0] ?? '', / node$/);
    for (const line of lines.slice(2)) {
      const partition = Number(line.split(/ +/)[2]);
      assert.ok(line.endsWith(` ${nodes.get(partition)}`), line);
    }
  });

  test('the monitor behind the lag page, and its metrics, name the same node as cdc lag', async () => {
    const monitor = new PipelineMonitor({ redis: redisCtx.redis, keys: capture.keys });
    const view = await monitor.sample();
    assert.equal(view.error, null);
    const idle = view.partitions.filter((p) => p.sink === 'idle');
    assert.equal(idle.length, P);
    for (const p of idle) assert.equal(p.node, nodes.get(p.partition), `partition ${p.partition}`);

    const registry = new Registry();
    registerMonitorMetrics(() => view, registry);
    const series = (await registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('cdc_partition_node_info{'));
    assert.deepEqual(
      series.sort(),
      [...nodes]
        .map(
          ([p, node]) => `cdc_partition_node_info{entity="todo",partition="${p}",node="${node}"} 1`,
        )
        .sort(),
    );
  });
});

/** `host:port` (the host may be an IPv6 address: the port is after the last colon). */
function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}
