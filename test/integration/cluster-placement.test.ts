import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster } from 'ioredis';
import { Keys } from '../../runtime/keys.ts';
import { testEnv } from '../helpers/env.ts';
import { connectTestRedis } from '../helpers/redis.ts';

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
