import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster } from 'ioredis';
import { Registry } from 'prom-client';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { Keys } from '../../runtime/keys.ts';
import { clusterMasterOf } from '../../runtime/redis-cluster-route.ts';
import { registerSinkMetrics } from '../../runtime/sink/sink-metrics.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { connectTestRedis, createTestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Placement on a Redis Cluster: one partition is one hash tag, so one slot; the 16 partitions of
 * an entity land on every master of the harness's cluster (3 masters), so the load of one entity
 * spreads over them. Each partition's keys (stream, lease, watermark) share its slot.
 */
test('the 16 partitions of an entity spread over all three masters, each partition in one slot', {
  skip:
    testEnv.redisClusterNodes === undefined
      ? 'a Redis Cluster test (scripts/test.sh cluster)'
      : false,
}, async () => {
  const redis = connectTestRedis();
  assert.ok(redis instanceof Cluster);
  try {
    await redis.ping();
    const keys = new Keys('placement');
    const masters = new Map<string, number[]>();
    for (let partition = 0; partition < 16; partition++) {
      const slots = new Set<number>();
      for (const key of [
        keys.stream('todo', partition),
        keys.lease('todo', partition, 'postgres'),
        keys.watermark('todo', partition, 'postgres'),
      ]) {
        slots.add(Number(await redis.cluster('KEYSLOT', key)));
      }
      assert.equal(slots.size, 1, `partition ${partition}'s keys share one slot`);
      const [slot] = [...slots];
      const owner = redis.slots[slot as number]?.[0];
      assert.ok(owner, `slot ${slot} has a master`);
      masters.set(owner, [...(masters.get(owner) ?? []), partition]);
    }
    const masterCount = redis.nodes('master').length;
    assert.equal(masterCount, 3);
    assert.equal(masters.size, 3, `partitions per master: ${JSON.stringify([...masters])}`);
    for (const [node, partitions] of masters) {
      assert.ok(partitions.length >= 3, `${node} holds ${partitions.length} partitions`);
    }
  } finally {
    redis.disconnect();
  }
});

test("a sink's metrics name the master each partition is read from: all three for 16 partitions", {
  skip:
    testEnv.redisClusterNodes === undefined
      ? 'a Redis Cluster test (scripts/test.sh cluster)'
      : false,
  timeout: 60_000,
}, async () => {
  const redisCtx = await createTestRedis('placement_metrics');
  const pgCtx = await createTestPostgres('placement_metrics');
  const capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], 16);
  const registry = new Registry();
  const instrumentation = new Instrumentation();
  registerSinkMetrics(instrumentation, registry);
  const runner = await startTestRunner(
    new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
    redisCtx.capturePrefix,
    'postgres-1',
    { instrumentation },
  );
  try {
    await capture.upsert('todo', { id: 'a', name: 'placed' });
    const cluster = redisCtx.redis as Cluster;
    const nodeOf = async (): Promise<Map<string, string>> => {
      const metric = await registry.getSingleMetric('cdc_sink_partition_node_info')?.get();
      return new Map(
        (metric?.values ?? []).map((v) => [String(v.labels.partition), String(v.labels.node)]),
      );
    };
    const nodes = await waitFor('every partition named', async () => {
      const seen = await nodeOf();
      return seen.size === 16 ? seen : undefined;
    });
    for (const [partition, node] of nodes) {
      const stream = capture.keys.stream('todo', Number(partition));
      assert.equal(node, clusterMasterOf(cluster, stream)?.address, `partition ${partition}`);
    }
    assert.equal(new Set(nodes.values()).size, 3, 'the three masters');
  } finally {
    await runner.stop();
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  }
});
