import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { resolveEntityOptions } from '../../runtime/capture/capture-options.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { ReplicationUnconfirmedError } from '../../runtime/errors/replication-unconfirmed-error.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestRedisClient, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

/**
 * `waitForReplicas`: a write is answered only once the partition master's replicas hold it (Redis
 * WAIT on the write's own connection). The single test server has no replica: a write is refused
 * with the reason and is on the master all the same; the harness's cluster has a replica per
 * master: writes are answered. The failover itself is in the fault tests.
 */
const onCluster = testEnv.redisClusterNodes !== undefined;

describe('capture: waitForReplicas', () => {
  let t: TestRedis<RedisClient>;
  let capture: Capture;
  before(async () => {
    t = await createTestRedisClient('capture_replicas');
    capture = await createCapture({
      redis: testRedisOptions(),
      prefix: t.capturePrefix,
      entities: {
        todo: {
          schema: schemaFile('todo'),
          partitions: 4,
          waitForReplicas: { replicas: 1, timeoutMs: 200 },
        },
      },
    });
  });
  after(async () => {
    await capture.close();
    await t.cleanup();
  });

  test('the option is validated', () => {
    assert.throws(
      () => resolveEntityOptions('todo', { waitForReplicas: { replicas: 0, timeoutMs: 10 } }),
      (error) => error instanceof ConfigError && /waitForReplicas\.replicas/.test(error.message),
    );
    assert.throws(
      () => resolveEntityOptions('todo', { waitForReplicas: { replicas: 1, timeoutMs: 0 } }),
      (error) => error instanceof ConfigError && /waitForReplicas\.timeoutMs/.test(error.message),
    );
  });

  test('a server without replicas: the write is refused as unconfirmed, stays on the master, and a retry with its idempotency key is a duplicate', {
    skip: onCluster ? 'the cluster has a replica per master' : false,
  }, async () => {
    const started = performance.now();
    await assert.rejects(
      capture.upsert('todo', { id: 'r1', name: 'unreplicated' }, { idempotencyKey: 'r1-1' }),
      (error) =>
        error instanceof ReplicationUnconfirmedError &&
        error.confirmed === 0 &&
        error.wanted === 1 &&
        error.retriable &&
        /0 of the 1 replica\(s\) asked for confirmed it within 200 ms/.test(error.message),
    );
    assert.ok(performance.now() - started >= 190, 'WAIT waited its timeout');
    assert.equal((await capture.get('todo', 'r1'))?.record.name, 'unreplicated');
    await assert.rejects(
      capture.upsert('todo', { id: 'r1', name: 'unreplicated' }, { idempotencyKey: 'r1-1' }),
      ReplicationUnconfirmedError,
    );
    const events = await t.redis.xrange(capture.keys.stream('todo', 0), '-', '+');
    const all = await Promise.all(
      [0, 1, 2, 3].map((p) => t.redis.xlen(capture.keys.stream('todo', p))),
    );
    assert.equal(
      all.reduce((a, b) => a + b, 0),
      1,
      `one event, the retry a duplicate (${events.length} in partition 0)`,
    );
  });

  test('on the cluster every write, single or batched, is answered once a replica holds it', {
    skip: onCluster ? false : 'needs replicas: the harness cluster (scripts/test.sh cluster)',
  }, async () => {
    const one = await capture.upsert('todo', { id: 'c1', name: 'replicated' });
    assert.equal(one.duplicate, false);
    const many = await capture.writeMany(
      'todo',
      Array.from({ length: 200 }, (_, i) => ({
        op: 'upsert' as const,
        record: { id: `m${i}`, name: `n${i}` },
      })),
    );
    assert.equal(many.length, 200);
    assert.equal((await capture.get('todo', 'm199'))?.record.name, 'n199');
  });
});
