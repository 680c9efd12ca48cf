import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { EntityOptions } from '../../runtime/capture/capture-options.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { connectRedisClient } from '../../runtime/redis-connection.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { type OwnRedisCluster, startOwnRedisCluster } from '../support/own-redis-cluster.ts';

const run = promisify(execFile);
const PARTITIONS = 16;

/**
 * kill -9 of a Redis Cluster master under a steady write load (a cluster of the test's own:
 * 3 masters, a replica each, cluster-node-timeout 1 s). Its replica is promoted and writes
 * resume. With `waitForReplicas`, every write capture answered is still there after the
 * failover, in the cache and in the log; without it, what was lost is printed (replication is
 * asynchronous: a write answered by the old master may not have reached the replica).
 */

interface Acked {
  key: string;
  id: string;
  name: string;
}

async function writeUnderFailover(
  cluster: OwnRedisCluster,
  capture: Capture,
  label: string,
): Promise<{ acked: Acked[]; failed: number; ackedAfterFailover: number }> {
  const acked: Acked[] = [];
  let failed = 0;
  let stop = false;
  let failedOverAt = Number.POSITIVE_INFINITY;
  let n = 0;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const key = `${label}-${n++}`;
      const name = `v-${key}`;
      try {
        const result = await capture.upsert('todo', { id: key, name }, { idempotencyKey: key });
        acked.push({ key, id: result.id, name });
      } catch {
        failed++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const writers = Array.from({ length: 16 }, () => writer());
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const stream = capture.keys.stream('todo', 0);
  const slot = Number(
    (
      await run('redis-cli', ['-p', String(cluster.ports[0]), 'CLUSTER', 'KEYSLOT', stream])
    ).stdout.trim(),
  );
  const master = await cluster.masterOf(slot);
  const replica = await cluster.replicaOf(master);
  cluster.kill(master);
  await cluster.promoted(replica, 30_000);
  failedOverAt = acked.length;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  stop = true;
  await Promise.all(writers);
  return { acked, failed, ackedAfterFailover: acked.length - failedOverAt };
}

/** The acknowledged writes missing from the cache or the log after the failover. */
async function missing(
  redis: Cluster,
  capture: Capture,
  acked: readonly Acked[],
): Promise<Acked[]> {
  const lost: Acked[] = [];
  for (const write of acked) {
    const value = await capture.get('todo', write.key);
    const inCache = value?.record.name === write.name && value.version === write.id;
    const stream = capture.keys.stream('todo', partitionOf(write.key, PARTITIONS));
    const inLog = (await redis.xrange(stream, write.id, write.id)).length === 1;
    if (!inCache || !inLog) lost.push(write);
  }
  return lost;
}

describe('capture on a Redis Cluster: kill -9 of a master under load', { timeout: 300_000 }, () => {
  for (const waited of [true, false]) {
    test(
      waited
        ? 'with waitForReplicas: writes resume after the failover and no answered write is lost'
        : 'without it: writes resume after the failover; answered writes lost are printed',
      async (context) => {
        // A cluster for each: the first failover leaves a master without a replica.
        const cluster = await startOwnRedisCluster(1000);
        const entity: EntityOptions = {
          schema: schemaFile('todo'),
          partitions: PARTITIONS,
          ...(waited ? { waitForReplicas: { replicas: 1, timeoutMs: 500 } } : {}),
        };
        const prefix = `failover_${waited ? 'waited' : 'async'}_${Date.now()}`;
        const capture = await createCapture({
          redis: { clusterNodes: cluster.nodes },
          prefix,
          entities: { todo: entity },
        });
        const redis = connectRedisClient({ clusterNodes: cluster.nodes }) as Cluster;
        try {
          const { acked, failed, ackedAfterFailover } = await writeUnderFailover(
            cluster,
            capture,
            waited ? 'w' : 'a',
          );
          context.diagnostic(
            `${acked.length} writes answered (${ackedAfterFailover} after the promotion), ${failed} refused during the failover`,
          );
          assert.ok(acked.length > 100, 'writes were answered');
          assert.ok(ackedAfterFailover > 0, 'writes resumed after the failover');
          const lost = await missing(redis, capture, acked);
          if (waited) {
            assert.deepEqual(lost, [], 'every answered write survived the failover');
          } else {
            context.diagnostic(`answered writes lost without waitForReplicas: ${lost.length}`);
          }
        } finally {
          await capture.close();
          redis.disconnect();
          await cluster.stop();
        }
      },
    );
  }
});
