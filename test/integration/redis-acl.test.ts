import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster } from 'ioredis';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { partitionOf } from '../../runtime/partition.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import { connectRedisClient } from '../../runtime/redis-connection.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { uniqueNamespace } from '../helpers/namespace.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { rejection } from '../support/rejection.ts';
import { appendUndecodable, startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

/**
 * The ACL rules README.md gives for every component, for a deployment under `prefix`; on a Redis
 * Cluster also the two commands a cluster client discovers the slots with.
 */
function aclRules(prefix: string): string[] {
  return [
    `~${prefix}:*`,
    `&${prefix}:*`,
    '-@all',
    '+@read',
    '+@write',
    '+@scripting',
    '+@pubsub',
    '+@connection',
    '+@transaction',
    '-@dangerous',
    '+info',
    // After -@all and -@dangerous, which would take them back.
    ...(testEnv.redisClusterNodes === undefined ? [] : ['+cluster|slots', '+cluster|info']),
  ];
}

describe('every component runs as a least-privilege Redis ACL user', () => {
  let redisCtx: TestRedis;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  let runner: SinkRunner;
  const user = uniqueNamespace('acl');
  const password = `pw-${user}`;
  const asUser = { ...testRedisOptions(), username: user, password };
  /** Every server: ACL users and their logs are per node on a cluster, replicas included. */
  const servers = (): RedisClient[] => {
    const { redis } = redisCtx;
    return redis instanceof Cluster ? redis.nodes('all') : [redis];
  };

  /** Commands Redis refused this user, from the ACL log of every server. */
  const denied = async () => {
    const logs = await Promise.all(
      servers().map(async (server) => (await server.call('ACL', 'LOG', '1000')) as unknown[][]),
    );
    return logs
      .flat()
      .map((entry) =>
        Object.fromEntries(
          Array.from({ length: entry.length / 2 }, (_, i) => [
            String(entry[2 * i]),
            entry[2 * i + 1],
          ]),
        ),
      )
      .filter((e) => e.username === user)
      .map((e) => `${e.reason} ${e.object}`);
  };

  before(async () => {
    redisCtx = await createTestRedis('acl');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('acl');
    for (const server of servers())
      await server.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...aclRules(prefix));
    capture = await createTestCapture(prefix, ['todo'], P, { redis: asUser });
    runner = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      prefix,
      'acl-1',
      { redis: asUser },
    );
  });

  after(async () => {
    await runner.stop();
    await capture.close();
    for (const server of servers())
      await server.call('ACL', 'DELUSER', user).catch(() => undefined);
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('capture, write-through, a sink with dead letters, and the CLI need nothing more', async () => {
    const result = await capture.upsert(
      'todo',
      { id: 'a', name: 'through' },
      { mode: 'through', timeoutMs: 10_000 },
    );
    assert.deepEqual(result.appliedBy, ['postgres']);
    await capture.writeMany(
      'todo',
      Array.from({ length: 50 }, (_, i) => ({
        op: 'upsert' as const,
        record: { id: `k${i}`, name: 'many' },
      })),
    );
    await appendUndecodable(
      redisCtx.redis,
      capture.keys,
      'todo',
      partitionOf('poison', P),
      'poison',
      capture.schemaOf('todo').id,
    );
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'postgres');
    await waitFor(
      'poison dead-lettered',
      async () => (await letters.list({ key: 'poison' })).length === 1,
    );
    const env = { REDIS_USERNAME: user, REDIS_PASSWORD: password };
    const cdc = async (...args: string[]) => {
      const { code, out } = await runCdc(prefix, env, ...args);
      assert.equal(code, 0, `cdc ${args.join(' ')}: ${out}`);
    };
    await cdc('lag');
    await cdc('dead-letters', '--sink', 'postgres');
    await cdc('skip', '--sink', 'postgres', '--entity', 'todo', '--key', 'poison');
    await waitFor('skip carried out', async () => (await letters.list()).length === 0);
    await cdc('replay', '--sink', 'postgres', '--from-start');
    // The replay reads the undecodable entry again, and dead-letters it again.
    await waitFor(
      'replay carried out',
      async () =>
        (await redisCtx.redis.hlen(capture.keys.replayRequests('postgres'))) === 0 &&
        (await letters.list({ key: 'poison' })).length === 1,
    );
    await cdc('trim', '--min-age', '1h');
    const { rows } = await pgCtx.pool.query(
      `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo`,
    );
    assert.equal(rows[0].n, 51);
    assert.deepEqual(await denied(), []);
  });

  test('the user reaches nothing outside its prefix, and no dangerous command', async () => {
    const redis = connectRedisClient({ ...asUser, options: { maxRetriesPerRequest: 1 } });
    try {
      // One at a time: a refusal must not arrive before anyone awaits it.
      for (const attempt of [
        () => redis.get(`${prefix}-other:key`),
        () => redis.set('elsewhere', '1'),
        () => redis.flushall(),
        () => redis.keys(`${prefix}:*`),
        () => redis.call('CONFIG', 'GET', 'dir'),
        () => redis.publish('elsewhere', 'x'),
      ]) {
        const error = await rejection(attempt());
        assert.match(String(error), /NOPERM/);
      }
      assert.equal(await redis.exists(capture.keys.stream('todo', 0)), 1);
      // Redis logged each refusal (which also shows the first test's empty log means something).
      const log = await denied();
      for (const object of ['elsewhere', 'flushall', 'keys', 'config|get'])
        assert.ok(
          log.some((l) => l.endsWith(` ${object}`)),
          `${object} in ${log.join(', ')}`,
        );
    } finally {
      redis.disconnect();
    }
  });
});
