import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { consumerGroups } from '../../runtime/consumer-groups.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { postgresOffsetsBehind, sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 4;
const KEYS = 2000;

/**
 * Fault tests of the PostgreSQL sink as a real process: kill -9 in the middle of a load, and a
 * PostgreSQL outage under load. Each key's `name` is its own sequence number, so the checker knows
 * each key's final value; a trigger makes PostgreSQL itself refuse any update that does not move a
 * key's sequence forward, so an event applied twice or out of order would fail loudly (and show up
 * in the dead letters) instead of hiding under a correct final state.
 */
describe('PostgreSQL sink under faults', () => {
  let redisCtx: Awaited<ReturnType<typeof createTestRedis>>;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  const lastSeq = new Map<string, number>();
  let seq = 0;
  const running: ServiceProcess[] = [];

  const startSink = () => {
    const sink = startService('sink-postgres', {
      REDIS_URL: testEnv.redisUrl,
      CDC_PREFIX: prefix,
      POSTGRES_URL: testEnv.postgresUrl,
      POSTGRES_SCHEMA: pgCtx.schema,
      SINK_BLOCK_MS: '100',
      SINK_LEASE_MS: '1500',
      SINK_BATCH_SIZE: '500',
    });
    running.push(sink);
    return sink;
  };

  const load = async (events: number) => {
    for (let done = 0; done < events; done += 1000) {
      const writes = Array.from({ length: 1000 }, () => {
        seq++;
        const id = `k${seq % KEYS}`;
        lastSeq.set(id, seq);
        return { op: 'upsert' as const, record: { id, name: String(seq) } };
      });
      await capture.writeMany('todo', writes);
    }
  };

  const caughtUp = () => sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres');
  /** The sink's applied watermark of every partition. */
  const appliedIds = () =>
    Promise.all(
      Array.from({ length: P }, (_, p) =>
        redisCtx.redis.get(capture.keys.watermark('todo', p, 'postgres')),
      ),
    );

  const assertExact = async () => {
    const { rows } = await pgCtx.pool.query<{ id: string; name: string }>(
      `SELECT id, name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo`,
    );
    assert.equal(rows.length, lastSeq.size, 'one row per key');
    for (const row of rows) assert.equal(Number(row.name), lastSeq.get(row.id), `key ${row.id}`);
    const letters = await new DeadLetters(redisCtx.redis, capture.keys, 'postgres').list();
    assert.deepEqual(
      letters.map((l) => l.error),
      [],
      'nothing was refused by the sequence trigger',
    );
  };

  before(async () => {
    redisCtx = await createTestRedis('faultpg');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('faultpg');
    capture = await createTestCapture(prefix, ['todo'], P);
    const table = `${pg.escapeIdentifier(pgCtx.schema)}.todo`;
    // Let the sink create its table, then arm the trigger.
    const first = startSink();
    await capture.upsert('todo', { id: 'k0', name: '0' });
    lastSeq.set('k0', 0);
    await waitFor('table created', caughtUp, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`);
    });
    await first.kill('SIGTERM');
    await pgCtx.pool.query(`
      CREATE FUNCTION ${pg.escapeIdentifier(pgCtx.schema)}.forward_only() RETURNS trigger AS $$
      BEGIN
        IF NEW.name::bigint <= OLD.name::bigint THEN
          RAISE EXCEPTION 'sequence of % went from % to %', OLD.id, OLD.name, NEW.name;
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await pgCtx.pool.query(
      `CREATE TRIGGER forward_only BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${pg.escapeIdentifier(pgCtx.schema)}.forward_only()`,
    );
  });

  after(async () => {
    for (const p of running) await p.kill('SIGKILL');
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('kill -9 in the middle of a 100k-event load, restart: PostgreSQL equals the expected state exactly', async () => {
    await load(100_000);
    const sink = startSink();
    const offsets = `${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets`;
    const progress = async () =>
      Number((await pgCtx.pool.query(`SELECT count(*) AS n FROM ${offsets}`)).rows[0].n);
    const start = Date.now();
    // Kill it once it is part-way: some batches committed, more to go.
    await waitFor(
      'sink applying',
      async () => (await progress()) >= P && !(await caughtUp()),
      60_000,
    );
    await sleep(300);
    assert.equal(
      await caughtUp(),
      false,
      'the sink finished before it could be killed; load more events',
    );
    await sink.kill('SIGKILL');
    const restarted = startSink();
    await waitFor('caught up after restart', caughtUp, 240_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${restarted.output()}`);
    });
    await assertExact();
    await restarted.kill('SIGTERM');
    assert.ok(Date.now() - start < 240_000);
  });

  test('SIGTERM in the middle of a load exits cleanly and hands the partitions over at once', async () => {
    await load(60_000);
    const sink = startSink();
    await waitFor(
      'sink applying',
      async () => (await redisCtx.redis.exists(capture.keys.lease('todo', 0, 'postgres'))) === 1,
      30_000,
    );
    await sleep(200);
    assert.equal(
      await caughtUp(),
      false,
      'the sink finished before it could be stopped; load more events',
    );
    const stopping = Date.now();
    await sink.kill('SIGTERM');
    assert.equal(sink.child.exitCode, 0, `exit code ${sink.child.exitCode}:\n${sink.output()}`);
    assert.ok(Date.now() - stopping < 10_000, 'it stopped within 10 s');
    // Leases released: the next instance takes every partition without waiting for them to expire.
    for (let p = 0; p < P; p++)
      assert.equal(await redisCtx.redis.exists(capture.keys.lease('todo', p, 'postgres')), 0);
    const next = startSink();
    await waitFor('caught up after the restart', caughtUp, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${next.output()}`);
    });
    await assertExact();
    await next.kill('SIGTERM');
  });

  test('PostgreSQL stopped for 10 s under load: the sink retries, catches up, loses nothing', {
    skip: !isLocal(testEnv.postgresUrl) && 'POSTGRES_URL is not a harness server',
  }, async () => {
    const sink = startSink();
    await waitFor('caught up', caughtUp, 60_000);
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        await load(1000);
        await sleep(400);
      }
    })();
    await sleep(1500);
    execFileSync('bash', ['scripts/servers.sh', 'stop', 'postgres'], { stdio: 'ignore' });
    await sleep(10_000);
    execFileSync('bash', ['scripts/servers.sh', 'start', 'postgres'], { stdio: 'ignore' });
    await writer;
    await waitFor('caught up after the outage', caughtUp, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${sink.output()}`);
    });
    assert.equal(sink.child.exitCode, null, 'the sink survived the outage');
    await assertExact();
    await sink.kill('SIGTERM');
  });

  test('Redis restarted in the middle of a drain: the sink reconnects its reads, catches up, loses nothing', {
    skip: !isLocal(testEnv.redisUrl) && 'REDIS_URL is not a harness server',
  }, async () => {
    const sink = startSink();
    await waitFor('caught up', caughtUp, 60_000);
    await sink.kill('SIGTERM');
    // A backlog to drain, so that the restart lands while reads and applies are in flight.
    const before = await appliedIds();
    await load(100_000);
    const draining = startSink();
    await waitFor(
      'draining',
      async () => (await appliedIds()).some((id, p) => id !== before[p]),
      30_000,
      10,
    );
    assert.equal(await caughtUp(), false, 'the drain was over before Redis stopped');
    execFileSync('bash', ['scripts/servers.sh', 'stop', 'redis'], { stdio: 'ignore' });
    await sleep(3000);
    execFileSync('bash', ['scripts/servers.sh', 'start', 'redis'], { stdio: 'ignore' });
    // The test's own connection gives up after a few quick retries (see createTestRedis).
    if (redisCtx.redis.status === 'end') await redisCtx.redis.connect();
    await waitFor('caught up after the restart', caughtUp, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${draining.output()}`);
    });
    assert.equal(draining.child.exitCode, null, 'the sink survived the restart');
    await assertExact();
    await draining.kill('SIGTERM');
  });

  test('a sink started while PostgreSQL is down waits for it instead of exiting', {
    skip: !isLocal(testEnv.postgresUrl) && 'POSTGRES_URL is not a harness server',
  }, async () => {
    execFileSync('bash', ['scripts/servers.sh', 'stop', 'postgres'], { stdio: 'ignore' });
    let sink: ServiceProcess | undefined;
    try {
      sink = startSink();
      await load(1000);
      await sleep(3000);
      assert.equal(sink.child.exitCode, null, `the sink exited:\n${sink.output()}`);
    } finally {
      execFileSync('bash', ['scripts/servers.sh', 'start', 'postgres'], { stdio: 'ignore' });
    }
    await waitFor('caught up once PostgreSQL is back', caughtUp, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${sink?.output()}`);
    });
    await assertExact();
    await sink.kill('SIGTERM');
  });

  test('kill -9 in the middle of a replay, restart: the replay completes and the lost rows are back exactly', async () => {
    const table = `${pg.escapeIdentifier(pgCtx.schema)}.todo`;
    const sink = startSink();
    await waitFor('caught up', caughtUp, 60_000);
    // Writes PostgreSQL lost in an outage (restored without them, say).
    const lost = Array.from({ length: 200 }, (_, i) => `k${i * 7}`);
    await pgCtx.pool.query(`DELETE FROM ${table} WHERE id = ANY($1)`, [lost]);
    const requests = capture.keys.replayRequests('postgres');
    const { code, out } = await runCdc(prefix, 'replay', '--sink', 'postgres', '--from-start');
    assert.equal(code, 0, out);
    /** Entries of the log the sink has still to read or apply, over every partition. */
    const behind = async () => {
      let total = 0;
      for (let p = 0; p < P; p++) {
        const group = (await consumerGroups(redisCtx.redis, capture.keys.stream('todo', p))).find(
          (g) => g.name === 'postgres',
        );
        total += (group?.lag ?? Number.POSITIVE_INFINITY) + (group?.pending ?? 0);
      }
      return total;
    };
    // Every partition's replay has started (requests are removed as they are carried out).
    await waitFor(
      'replay started',
      async () => (await redisCtx.redis.hlen(requests)) === 0,
      30_000,
      10,
    );
    await sleep(200);
    assert.ok((await behind()) > 0, 'the replay was over before the sink could be killed');
    await sink.kill('SIGKILL');
    const restarted = startSink();
    await waitFor('replay finished', async () => (await behind()) === 0, 240_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${restarted.output()}`);
      },
    );
    // The offsets are back at the end of the log, and the forward-only trigger never fired.
    assert.deepEqual(
      await postgresOffsetsBehind(pgCtx.pool, pgCtx.schema, redisCtx.redis, capture.keys, 'todo'),
      [],
    );
    assert.equal(
      (await new DeadLetters(redisCtx.redis, capture.keys, 'postgres').list()).length,
      0,
    );
    await assertExact();
    await restarted.kill('SIGTERM');
  });
});

function isLocal(url: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
}
