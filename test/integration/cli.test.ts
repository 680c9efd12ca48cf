import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { partitionOf } from '../../runtime/partition.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { appendUndecodable, startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

describe('operator CLI against a running sink', () => {
  let redisCtx: TestRedis;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  let runner: SinkRunner;

  const cdc = (...args: string[]) => runCdc(prefix, ...args);

  before(async () => {
    redisCtx = await createTestRedis('cli');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('cli');
    capture = await createTestCapture(prefix, ['todo'], P);
    runner = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      prefix,
    );
  });

  after(async () => {
    await runner.stop();
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('lag, dead letters and skip: a quarantined key is released from the command line', async () => {
    const p = partitionOf('bad', P);
    await appendUndecodable(
      redisCtx.redis,
      capture.keys,
      'todo',
      p,
      'bad',
      capture.schemaOf('todo').id,
    );
    await capture.upsert('todo', { id: 'bad', name: 'good value' });
    const row = async () =>
      (
        await pgCtx.pool.query(
          `SELECT name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo WHERE id = 'bad'`,
        )
      ).rows[0]?.name as string | undefined;
    await waitFor('both entries dealt with', async () =>
      (await cdc('dead-letters', '--sink', 'postgres')).out.includes('held'),
    );

    const lag = await cdc('lag', '--sink', 'postgres');
    assert.equal(lag.code, 0);
    assert.match(lag.out, /postgres.*todo/);
    const letters = await cdc('dead-letters', '--sink', 'postgres', '--key', 'bad');
    assert.match(letters.out, /failed/);
    assert.equal(await row(), undefined);

    assert.equal(
      (await cdc('skip', '--sink', 'postgres', '--entity', 'todo', '--key', 'nobody')).code,
      1,
    );
    assert.equal(
      (await cdc('skip', '--sink', 'postgres', '--entity', 'todo', '--key', 'bad')).code,
      0,
    );
    await waitFor('held event applied', async () => (await row()) === 'good value');
    await waitFor(
      'dead letters removed',
      async () => !/bad/.test((await cdc('dead-letters', '--sink', 'postgres')).out),
    );
  });

  test('lag --json counts every entry a stopped sink has not applied, and --max-behind exits 3', async () => {
    // A sink that was added and never ran: its group starts at the beginning of every stream.
    for (let p = 0; p < P; p++)
      await redisCtx.redis.xgroup('CREATE', capture.keys.stream('todo', p), 'stopped', '0');
    const stopped = await cdc('--json', 'lag', '--sink', 'stopped', '--max-behind', '0');
    assert.equal(stopped.code, 3, stopped.out);
    const rows = (
      JSON.parse(stopped.out) as { streams: Array<{ partition: number; behind: number }> }
    ).streams;
    assert.equal(rows.length, P);
    // --json keys are snake_case, whatever the table calls its columns.
    assert.deepEqual(Object.keys(rows[0] ?? {}), [
      'sink',
      'entity',
      'partition',
      'applied',
      'behind',
      'pending',
      'oldest_unapplied_s',
      'node',
    ]);
    const table = await cdc('lag', '--sink', 'stopped');
    assert.doesNotMatch(table.out, /\(index\)/);
    assert.match(
      table.out,
      /^sink +entity +partition +applied +behind +pending +oldest unapplied \(s\) +node\n-+ +-+/,
    );
    for (const row of rows)
      assert.equal(
        row.behind,
        await redisCtx.redis.xlen(capture.keys.stream('todo', row.partition)),
      );

    await capture.upsert('todo', { id: 'lagcheck', name: 'applied' });
    await waitFor('the running sink caught up', async () => {
      const running = await cdc('--json', 'lag', '--sink', 'postgres', '--max-behind', '0');
      return (
        running.code === 0 &&
        (JSON.parse(running.out) as { streams: unknown[] }).streams.length === P
      );
    });
    assert.equal((await cdc('lag', '--max-behind', 'lots')).code, 2);
    assert.equal((await cdc('lag', '--no-such-option')).code, 2);
    // A configuration it cannot use is one line that says what to do, exit code 2, no stack.
    // Each mode's own variable: on a cluster REDIS_CLUSTER_NODES takes precedence.
    const cluster = testEnv.redisClusterNodes;
    const misconfigured = await runCdc(
      prefix,
      cluster === undefined
        ? { REDIS_URL: 'http://localhost' }
        : { REDIS_CLUSTER_NODES: 'http://localhost' },
      'lag',
    );
    assert.equal(misconfigured.code, 2, misconfigured.out);
    assert.match(
      misconfigured.out,
      cluster === undefined
        ? /^cdc: Redis URL must start with redis:\/\/ or rediss:\/\//
        : /^cdc: REDIS_CLUSTER_NODES must be a comma-separated list of host:port/,
    );
    assert.equal(misconfigured.out.trim().split('\n').length, 1, misconfigured.out);
    // A Redis that does not answer: one line, exit code 1, no stack.
    const unreachable = await runCdc(
      prefix,
      cluster === undefined
        ? { REDIS_URL: 'redis://127.0.0.1:1' }
        : { REDIS_CLUSTER_NODES: '127.0.0.1:1' },
      'sinks',
    );
    assert.equal(unreachable.code, 1, unreachable.out);
    assert.match(
      unreachable.out,
      cluster === undefined
        ? /^cdc: Redis at redis:\/\/127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED[^)]*\): check REDIS_URL/
        : /^cdc: the Redis Cluster at redis:\/\/127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED[^)]*\): check REDIS_CLUSTER_NODES/,
    );
    assert.equal(unreachable.out.trim().split('\n').length, 1, unreachable.out);
    // An ACL user Redis refuses: one line naming the user, not a reply error's stack.
    const refused = await runCdc(
      prefix,
      { REDIS_USERNAME: 'no_such_user', REDIS_PASSWORD: 'wrong' },
      'lag',
    );
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /^cdc: Redis at \S+ refused user "no_such_user" \(WRONGPASS/);
    assert.equal(refused.out.trim().split('\n').length, 1, refused.out);
    // TLS asked of a plaintext port: one line saying to check the port speaks TLS.
    const tls = await runCdc(
      prefix,
      cluster === undefined
        ? { REDIS_URL: testEnv.redisUrl.replace(/^redis:/, 'rediss:') }
        : {
            REDIS_CLUSTER_NODES: cluster
              .split(',')
              .map((node) => `rediss://${node.replace(/^redis:\/\//, '')}`)
              .join(','),
          },
      'lag',
    );
    assert.equal(tls.code, 1, tls.out);
    assert.match(
      tls.out,
      /^cdc: (Redis|the Redis Cluster) at rediss:\S+ is unreachable .*speaks TLS on that port/,
    );
    assert.equal(tls.out.trim().split('\n').length, 1, tls.out);
  });
});
