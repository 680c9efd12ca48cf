import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { PipelineMonitor } from '../../runtime/monitor/pipeline-monitor.ts';
import { QUARANTINE_SHOWN } from '../../runtime/monitor/pipeline-reading.ts';
import type { PipelineView } from '../../runtime/monitor/pipeline-view.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import { testRedisEnv } from '../support/test-redis-env.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

/** The monitor against real Redis and a real sink process: the states and warnings it derives. */
describe('pipeline monitor', () => {
  let redisCtx: TestRedis;
  let pgCtx: TestPostgres;
  let capture: Capture;
  let monitor: PipelineMonitor;
  const running: ServiceProcess[] = [];

  before(async () => {
    redisCtx = await createTestRedis('monitor');
    pgCtx = await createTestPostgres('monitor');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    monitor = new PipelineMonitor({
      redis: redisCtx.redis,
      keys: capture.keys,
      sampleMs: 200,
      windowMs: 1500,
    });
    monitor.start();
  });

  after(async () => {
    for (const p of running) await p.kill('SIGKILL');
    await monitor?.stop();
    await capture?.close();
    await redisCtx?.cleanup();
    await pgCtx?.cleanup();
  });

  /** Waits for a view satisfying `check` among the next ones. */
  const viewWhere = (what: string, check: (view: PipelineView) => boolean, timeoutMs = 20_000) =>
    waitFor(
      what,
      () => {
        const view = monitor.latest();
        return view && check(view) ? view : undefined;
      },
      timeoutMs,
      100,
    );
  const sinkStates = (view: PipelineView, sink: string) =>
    view.partitions.filter((p) => p.sink === sink).map((p) => p.state);

  test('a sink whose target blocks its writes is stalled while its instance lives, and OK once they go through', async () => {
    const sink = startService('sink-postgres', {
      ...testRedisEnv(),
      CDC_PREFIX: redisCtx.capturePrefix,
      POSTGRES_URL: testEnv.postgresUrl,
      POSTGRES_SCHEMA: pgCtx.schema,
      SINK_BLOCK_MS: '100',
      SINK_LEASE_MS: '1000',
    });
    running.push(sink);
    const ids = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await capture.writeMany(
      'todo',
      ids.map((id) => ({ op: 'upsert' as const, record: { id, name: 'first' } })),
    );
    await waitFor(
      'the sink caught up',
      () => sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres'),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${sink.output()}`);
    });
    await viewWhere('every partition OK', (v) => {
      const s = sinkStates(v, 'postgres');
      return s.length === P && s.every((x) => x === 'ok');
    });

    // A transaction holding the table's lock: the sink's writes wait on it, its heartbeats do not.
    const locker = new pg.Client({ connectionString: testEnv.postgresUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(
        `LOCK TABLE ${pg.escapeIdentifier(pgCtx.schema)}.todo IN ACCESS EXCLUSIVE MODE`,
      );
      await capture.writeMany(
        'todo',
        ids.map((id) => ({ op: 'upsert' as const, record: { id, name: 'second' } })),
      );
      const stalled = await viewWhere('every partition stalled', (v) => {
        const s = sinkStates(v, 'postgres');
        return s.length === P && s.every((x) => x === 'stalled');
      });
      for (const p of stalled.partitions) {
        assert.ok((p.behind ?? 0) > 0, 'behind');
        assert.notEqual(p.owner, null, 'an instance holds it');
      }
      assert.ok(stalled.instances.some((i) => i.sink === 'postgres' && i.live));
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    await viewWhere('every partition OK again', (v) => {
      const s = sinkStates(v, 'postgres');
      return s.length === P && s.every((x) => x === 'ok');
    });
  });

  test('retention that trimmed entries a group had not read is reported for that group only', async () => {
    const stream = capture.keys.stream('todo', 0);
    await redisCtx.redis.xgroup('CREATE', stream, 'late', '$');
    await redisCtx.redis.xgroup('CREATE', stream, 'early', '0');
    await capture.writeMany(
      'todo',
      Array.from({ length: 30 }, (_, i) => ({
        op: 'upsert' as const,
        record: { id: `t${i}`, name: 'x' },
      })),
    );
    // `late` reads everything now there; then all but the newest entry goes.
    await redisCtx.redis.xreadgroup('GROUP', 'late', 'c', 'STREAMS', stream, '>');
    await redisCtx.redis.xack(
      stream,
      'late',
      ...(await redisCtx.redis.xrange(stream, '-', '+')).map(([id]) => id),
    );
    await capture.upsert('todo', { id: 't-new', name: 'y' });
    await redisCtx.redis.xtrim(stream, 'MAXLEN', 1);
    const view = await viewWhere('the trimmed entries reported', (v) =>
      v.partitions.some((p) => p.trimmedUnread),
    );
    const flagged = (sink: string) =>
      view.partitions.find((p) => p.sink === sink && p.entity === 'todo' && p.partition === 0)
        ?.trimmedUnread;
    assert.equal(flagged('early'), true, 'early had read nothing of what went');
    assert.equal(flagged('late'), false, 'late had read everything that went');
  });

  test('a mass failure lists the oldest quarantined keys with their errors and counts them all', async () => {
    const stream = capture.keys.stream('todo', 1);
    await redisCtx.redis.xgroup('CREATE', stream, 'mass', '$', 'MKSTREAM');
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'mass');
    const total = QUARANTINE_SHOWN + 5;
    for (let i = 0; i < total; i++) {
      const head = await letters.add('failed', 'todo', 1, `q${i}`, `${i + 1}-0`, `error ${i}`, []);
      await letters.quarantine('todo', 1, `q${i}`, head);
    }
    const view = await viewWhere('the quarantine counted', (v) =>
      v.partitions.some((p) => p.sink === 'mass' && p.quarantinedCount === total),
    );
    const p = view.partitions.find((x) => x.sink === 'mass')!;
    assert.equal(p.quarantined.length, QUARANTINE_SHOWN);
    assert.deepEqual(
      p.quarantined.slice(0, 2).map((q) => [q.key, q.error]),
      [
        ['q0', 'error 0'],
        ['q1', 'error 1'],
      ],
      'oldest failure first, with its error',
    );
  });
});
