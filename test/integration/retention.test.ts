import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { StreamRetention } from '../../runtime/retention/stream-retention.ts';
import { ReplayRequests } from '../../runtime/sink/replay-requests.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

describe('safe trimming of the partition streams (cdc trim, real Redis and PostgreSQL)', () => {
  let redisCtx: TestRedis;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  let runner: SinkRunner | undefined;

  const cdc = (...args: string[]) => runCdc(prefix, ...args);
  const stream = (p: number) => capture.keys.stream('todo', p);
  const ids = async (p: number) =>
    (await redisCtx.redis.xrange(stream(p), '-', '+')).map(([id]) => id);
  /** Delivers the next `count` entries of a partition to the second group; returns their ids. */
  const readAsLaggard = async (p: number, count: number) => {
    const reply = (await redisCtx.redis.xreadgroup(
      'GROUP',
      'laggard',
      'l1',
      'COUNT',
      count,
      'STREAMS',
      stream(p),
      '>',
    )) as Array<[string, Array<[string, string[]]>]>;
    return reply[0]![1].map(([id]) => id);
  };
  const startSink = async () => {
    runner = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      prefix,
    );
  };
  const names = async () =>
    new Map(
      (
        await pgCtx.pool.query<{ id: string; name: string }>(
          `SELECT id, name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo`,
        )
      ).rows.map((r) => [r.id, r.name]),
    );

  before(async () => {
    redisCtx = await createTestRedis('retention');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('retention');
    capture = await createTestCapture(prefix, ['todo'], P);
    await startSink();
    for (let round = 0; round < 3; round++)
      for (let k = 0; k < 20; k++) await capture.upsert('todo', { id: `k${k}`, name: `r${round}` });
    await waitFor('sink caught up', () =>
      sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres'),
    );
    // A second consumer (a sink that is behind, or a bridge): three entries delivered, none
    // acknowledged yet.
    for (let p = 0; p < P; p++) {
      await redisCtx.redis.xgroup('CREATE', stream(p), 'laggard', '0');
      await readAsLaggard(p, 3);
    }
  });

  after(async () => {
    await runner?.stop();
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('entries a consumer has not acknowledged are kept, and a dry run removes nothing', async () => {
    const before = await Promise.all([0, 1].map(ids));
    const { code, out } = await cdc('trim', '--min-age', '0', '--dry-run');
    assert.equal(code, 0, out);
    assert.match(out, /would remove/);
    assert.match(out, /laggard/);
    const retention = new StreamRetention(redisCtx.redis, capture.keys);
    for (let p = 0; p < P; p++) {
      const plan = await retention.plan('todo', p, 0);
      // The laggard's first pending entry is the stream's first entry.
      assert.deepEqual(plan.bound, { minId: before[p]![0], heldBy: 'laggard' });
      assert.equal(plan.removable, 0);
      assert.deepEqual(await ids(p), before[p], 'a dry run changed the stream');
    }
  });

  test('once every consumer is past them, entries below the slowest one are trimmed', async () => {
    const before = await Promise.all([0, 1].map(ids));
    for (let p = 0; p < P; p++) {
      // The laggard acknowledges what it had and reads five more, acknowledging them too.
      await redisCtx.redis.xack(stream(p), 'laggard', ...before[p]!.slice(0, 3));
      await redisCtx.redis.xack(stream(p), 'laggard', ...(await readAsLaggard(p, 5)));
    }
    const dry = await cdc('trim', '--min-age', '0', '--dry-run');
    assert.equal(dry.code, 0, dry.out);
    assert.deepEqual(await Promise.all([0, 1].map(ids)), before, 'a dry run changed a stream');

    const { code, out } = await cdc('trim', '--min-age', '0');
    assert.equal(code, 0, out);
    for (let p = 0; p < P; p++) {
      // Kept from the laggard's last delivered entry (the eighth) on; the seven before it went.
      assert.deepEqual(await ids(p), before[p]!.slice(7), `partition ${p}`);
    }
  });

  test('a replay asked of a consumer and not carried out yet keeps what it will read', async () => {
    const replays = new ReplayRequests(redisCtx.redis, capture.keys, 'laggard');
    const retention = new StreamRetention(redisCtx.redis, capture.keys);
    // Without the request, the bound would be the laggard's position: the first entry kept.
    const [first] = await ids(0);
    assert.deepEqual((await retention.plan('todo', 0, 0)).bound, {
      minId: first,
      heldBy: 'laggard',
    });
    await replays.request('todo', 0, '0-0');
    try {
      assert.deepEqual((await retention.plan('todo', 0, 0)).bound, {
        minId: '0-0',
        heldBy: 'laggard',
      });
    } finally {
      await replays.done('todo', 0, '0-0');
    }
  });

  test('the minimum age keeps entries every consumer is past', async () => {
    const before = await Promise.all([0, 1].map(ids));
    for (let p = 0; p < P; p++)
      await redisCtx.redis.xreadgroup('GROUP', 'laggard', 'l1', 'STREAMS', stream(p), '>');
    const { code, out } = await cdc('trim', '--min-age', '1h');
    assert.equal(code, 0, out);
    assert.match(out, /min-age/);
    assert.deepEqual(await Promise.all([0, 1].map(ids)), before);
  });

  test('a replay asked between planning a trim and carrying it out keeps what it will read', async () => {
    // Everything acknowledged: a plan with no minimum age may remove entries.
    await redisCtx.redis.xack(stream(0), 'laggard', ...(await ids(0)));
    const retention = new StreamRetention(redisCtx.redis, capture.keys);
    const plan = await retention.plan('todo', 0, 0);
    assert.ok(plan.removable > 0, JSON.stringify(plan));
    const before = await ids(0);
    const replays = new ReplayRequests(redisCtx.redis, capture.keys, 'laggard');
    await replays.request('todo', 0, '0-0');
    try {
      assert.equal(await retention.trim(plan), 0);
      assert.deepEqual(await ids(0), before);
    } finally {
      await replays.done('todo', 0, '0-0');
    }
  });

  test('a sink keeps applying after a trim, and a restarted one resumes from its offsets', async () => {
    await runner!.stop();
    runner = undefined;
    await capture.upsert('todo', { id: 'k1', name: 'after the trim' });
    await capture.delete('todo', 'k2');
    await startSink();
    await waitFor('sink caught up', () =>
      sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres'),
    );
    const rows = await names();
    assert.equal(rows.get('k1'), 'after the trim');
    assert.equal(rows.has('k2'), false);
    assert.equal(rows.size, 19);
    for (const [id, name] of rows) if (id !== 'k1') assert.equal(name, 'r2', id);
  });

  test('a minimum age typed wrong is refused with the reason, and nothing is trimmed', async () => {
    const before = await Promise.all([0, 1].map(ids));
    const { code, out } = await cdc('trim', '--min-age', '24 hours');
    assert.equal(code, 2);
    assert.match(out, /not a duration: "24 hours"/);
    assert.deepEqual(await Promise.all([0, 1].map(ids)), before);
  });
});
