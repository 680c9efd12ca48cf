import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import { WriteThroughFailedError } from '../../runtime/errors/write-through-failed-error.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { expectedState } from '../support/expected-state.ts';
import { HookedSink } from '../support/hooked-sink.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { appendUndecodable, startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 4;

// What the runtime does around any sink: resume, ordering under failures, dead letters,
// re-drive and skip, read-ahead invalidation, write-through failures, sharing partitions.

describe('the sink runner, with a PostgreSQL sink (real Redis and PostgreSQL)', () => {
  let f: PostgresSinkFixture;

  before(async () => {
    f = await createPostgresSinkFixture('runner', ['todo', 'user'], P);
  });

  after(() => f.cleanup());

  test('a restarted sink resumes from the offsets in its target and applies nothing twice', async () => {
    const first = await f.startRunner('a');
    for (let i = 0; i < 30; i++) await f.capture.upsert('todo', { id: `t${i}`, name: `todo ${i}` });
    await waitFor('todo applied', () => f.appliedAll('todo'));
    await first.stop();
    const { rows: before } = await f.pgCtx.pool.query(
      `SELECT entity, partition, stream_id FROM ${pg.escapeIdentifier(f.pgCtx.schema)}.cdc_offsets ORDER BY 1, 2`,
    );
    assert.ok(before.length > 0);
    // Update a row behind the sink's back: a replay of already-applied events would overwrite it.
    await f.pgCtx.pool.query(
      `UPDATE ${pg.escapeIdentifier(f.pgCtx.schema)}.todo SET name = 'touched' WHERE id = 't20'`,
    );
    const runner = await f.startRunner('b');
    await f.capture.upsert('todo', { id: 't99', name: 'after restart' });
    await waitFor('t99 applied', async () => (await f.rows('todo')).get('t99'));
    assert.equal(
      (await f.rows('todo')).get('t20')?.name,
      'touched',
      'old events were applied again',
    );
    await runner.stop();
  });

  test('a permanent failure dead-letters the event, holds its key, and lets other keys flow; re-drive applies them in order', async () => {
    const table = `${pg.escapeIdentifier(f.pgCtx.schema)}.todo`;
    await f.pgCtx.pool.query(
      `ALTER TABLE ${table} ADD CONSTRAINT no_bad_names CHECK (name <> 'bad')`,
    );
    const runner = await f.startRunner('c');
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    await f.capture.upsert('todo', { id: 'poison', name: 'bad' });
    // A later event of the key in the same batch would supersede the bad one before it reaches
    // the database (last event per key wins), so wait until the bad one has failed alone.
    await waitFor(
      'poison dead-lettered',
      async () => (await letters.list({ key: 'poison' })).length === 1,
    );
    await f.capture.upsert('todo', { id: 'poison', name: 'fixed later' });
    for (let i = 0; i < 20; i++) await f.capture.upsert('todo', { id: `ok${i}`, name: 'fine' });
    await waitFor('todo applied', () => f.appliedAll('todo'));
    const applied = await f.rows('todo');
    assert.equal(applied.get('poison'), undefined);
    for (let i = 0; i < 20; i++) assert.equal(applied.get(`ok${i}`)?.name, 'fine');
    const list = await letters.list({ entity: 'todo', key: 'poison' });
    assert.deepEqual(
      list.map((l) => l.kind),
      ['failed', 'held'],
    );
    assert.match(list[0]!.error, /no_bad_names/);
    // Dead letters keep the entry's fields exactly as they are in the stream.
    const stream = f.capture.keys.stream('todo', partitionOf('poison', P));
    for (const letter of list) {
      const [entry] = (await f.redisCtx.redis.xrangeBuffer(
        stream,
        letter.sourceId,
        letter.sourceId,
      )) as unknown as Array<[Buffer, Buffer[]]>;
      assert.ok(entry, `entry ${letter.sourceId} is still in the stream`);
      const [id, original] = entry;
      assert.deepEqual(
        decodeEnvelope(letter.sourceId, letter.fields),
        decodeEnvelope(id.toString(), original),
      );
    }
    // Fix the cause, then ask for a re-drive: both events apply in order, the key is released.
    await f.pgCtx.pool.query(`ALTER TABLE ${table} DROP CONSTRAINT no_bad_names`);
    assert.equal(await letters.requestRedrive('todo', partitionOf('poison', P), 'poison'), true);
    await waitFor(
      'poison re-driven',
      async () => (await f.rows('todo')).get('poison')?.name === 'fixed later',
    );
    // The runner applies the re-driven events, then removes their dead letters.
    await waitFor(
      'dead letters removed',
      async () => (await letters.list({ key: 'poison' })).length === 0,
    );
    await waitFor(
      'key released',
      async () => (await letters.quarantined('todo', partitionOf('poison', P))).size === 0,
    );
    await f.capture.upsert('todo', { id: 'poison', name: 'flowing again' });
    await waitFor(
      'poison flows',
      async () => (await f.rows('todo')).get('poison')?.name === 'flowing again',
    );
    await runner.stop();
  });

  test('a batch prepared while the one before is applied is planned again once that one dead-letters its key', async () => {
    const table = `${pg.escapeIdentifier(f.pgCtx.schema)}.todo`;
    await f.pgCtx.pool.query(
      `ALTER TABLE ${table} ADD CONSTRAINT no_bad_ahead CHECK (name <> 'x')`,
    );
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    // A backlog, read one entry per stream at a time: the key's second event is read, planned and
    // prepared while its first is being applied, before the first fails and quarantines the key.
    await f.capture.upsert('todo', { id: 'ahead', name: 'x' });
    await f.capture.upsert('todo', { id: 'ahead', name: 'after the failure' });
    for (let i = 0; i < 10; i++) await f.capture.upsert('todo', { id: `beside${i}`, name: 'fine' });
    // Housekeeping would also invalidate the preparation: keep it out of the way.
    const runner = await f.startRunner('ahead', {}, 'postgres', {
      batchSize: 1,
      housekeepingMs: 60_000,
    });
    try {
      await waitFor('todo applied', () => f.appliedAll('todo'));
      const applied = await f.rows('todo');
      assert.equal(applied.get('ahead'), undefined, 'the held event was applied');
      for (let i = 0; i < 10; i++) assert.equal(applied.get(`beside${i}`)?.name, 'fine');
      const list = await letters.list({ entity: 'todo', key: 'ahead' });
      assert.deepEqual(
        list.map((l) => l.kind),
        ['failed', 'held'],
      );
    } finally {
      await runner.stop();
      await f.pgCtx.pool.query(`ALTER TABLE ${table} DROP CONSTRAINT no_bad_ahead`);
    }
  });

  test('a batch read while an event is being dead-lettered holds the key behind it', async () => {
    const table = `${pg.escapeIdentifier(f.pgCtx.schema)}.todo`;
    await f.pgCtx.pool.query(
      `ALTER TABLE ${table} ADD CONSTRAINT no_bad_midway CHECK (name <> 'y')`,
    );
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    let follow: Promise<unknown> | undefined;
    // The moment the event alone has failed, the runner writes its dead letter and quarantines
    // its key, a few round trips to Redis. The key's next event is captured just then: the
    // runner's read ahead receives it during those round trips.
    const sink = new HookedSink(
      new PostgresSink({ url: testEnv.postgresUrl, schema: f.pgCtx.schema, name: 'postgres' }),
      {
        onApplyError: (batches) => {
          const alone = batches.length === 1 && batches[0]!.events.length === 1;
          if (alone && batches[0]!.events[0]!.key === 'midway' && !follow)
            follow = f.capture.upsert('todo', { id: 'midway', name: 'after the failure' });
        },
      },
    );
    const runner = await startTestRunner(sink, f.prefix, 'midway', { housekeepingMs: 60_000 });
    f.runners.push(runner);
    try {
      // Reading live, with a read ahead in flight.
      await f.capture.upsert('todo', { id: 'midway-warm', name: 'fine' });
      await waitFor('warm-up applied', () => f.appliedAll('todo'));
      await f.capture.upsert('todo', { id: 'midway', name: 'y' });
      await waitFor('follow-up captured', () => follow);
      await follow;
      await waitFor('todo applied', () => f.appliedAll('todo'));
      assert.equal((await f.rows('todo')).get('midway'), undefined, 'the held event was applied');
      assert.deepEqual(
        (await letters.list({ entity: 'todo', key: 'midway' })).map((l) => l.kind),
        ['failed', 'held'],
      );
    } finally {
      await runner.stop();
      await f.pgCtx.pool.query(`ALTER TABLE ${table} DROP CONSTRAINT no_bad_midway`);
    }
  });

  test('a write-through of an event the sink dead-letters fails with the reason instead of succeeding', async () => {
    const table = `${pg.escapeIdentifier(f.pgCtx.schema)}.todo`;
    await f.pgCtx.pool.query(
      `ALTER TABLE ${table} ADD CONSTRAINT no_forbidden CHECK (name <> 'forbidden')`,
    );
    const runner = await f.startRunner('t');
    try {
      const err = await f.capture
        .upsert('todo', { id: 'wt', name: 'forbidden' }, { mode: 'through', timeoutMs: 10_000 })
        .catch((e: unknown) => e);
      assert.ok(err instanceof WriteThroughFailedError, String(err));
      assert.equal(err.sink, 'postgres');
      assert.match(err.reason, /no_forbidden/);
      const ok = await f.capture.upsert(
        'todo',
        { id: 'wt2', name: 'allowed' },
        { mode: 'through', timeoutMs: 10_000 },
      );
      assert.deepEqual(ok.appliedBy, ['postgres']);
    } finally {
      await f.pgCtx.pool.query(`ALTER TABLE ${table} DROP CONSTRAINT no_forbidden`);
      await runner.stop();
    }
  });

  test('an undecodable entry goes to the dead letters and skip releases its key', async () => {
    const runner = await f.startRunner('d');
    const p = partitionOf('corrupt', P);
    const schemaId = f.capture.schemaOf('todo').id;
    await appendUndecodable(f.redisCtx.redis, f.capture.keys, 'todo', p, 'corrupt', schemaId);
    await f.capture.upsert('todo', { id: 'corrupt', name: 'good one' });
    await waitFor('todo applied', () => f.appliedAll('todo'));
    assert.equal((await f.rows('todo')).get('corrupt'), undefined);
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    assert.deepEqual(
      (await letters.list({ key: 'corrupt' })).map((l) => l.kind),
      ['failed', 'held'],
    );
    await letters.requestSkip('todo', p, 'corrupt');
    await waitFor(
      'held event applied',
      async () => (await f.rows('todo')).get('corrupt')?.name === 'good one',
    );
    await runner.stop();
  });

  test('a sink whose apply throws a TypeError dead-letters the event instead of retrying it forever', async () => {
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    // A bug in a sink (here: in code around the real one) fails the same way on every retry.
    const sink = new HookedSink(
      new PostgresSink({ url: testEnv.postgresUrl, schema: f.pgCtx.schema, name: 'postgres' }),
      {
        beforeApply: async (batches) => {
          const events = batches.flatMap((b) => b.events);
          const bug = events.find((e) => e.key === 'bug');
          if (bug) (undefined as unknown as { name: string }).name.toString();
        },
      },
    );
    const runner = await startTestRunner(sink, f.prefix, 'bug');
    f.runners.push(runner);
    try {
      await f.capture.upsert('todo', { id: 'bug', name: 'hits the bug' });
      for (let i = 0; i < 10; i++)
        await f.capture.upsert('todo', { id: `nobug${i}`, name: 'fine' });
      await waitFor('todo applied', () => f.appliedAll('todo'));
      const applied = await f.rows('todo');
      assert.equal(applied.get('bug'), undefined);
      for (let i = 0; i < 10; i++) assert.equal(applied.get(`nobug${i}`)?.name, 'fine');
      const list = await letters.list({ entity: 'todo', key: 'bug' });
      assert.deepEqual(
        list.map((l) => l.kind),
        ['failed'],
      );
      assert.match(list[0]!.error, /^TypeError: /);
    } finally {
      await runner.stop();
    }
  });

  test('a corrupt event another owner committed meanwhile is dropped, not dead-lettered (a late former owner)', async () => {
    const p = partitionOf('late', P);
    const sibling = Array.from({ length: 100 }, (_, i) => `late${i}`).find(
      (k) => partitionOf(k, P) === p,
    )!;
    const letters = new DeadLetters(f.redisCtx.redis, f.capture.keys, 'postgres');
    // The new owner of the partition, committing while this runner's apply is on its way.
    const other = new PostgresSink({ url: testEnv.postgresUrl, schema: f.pgCtx.schema });
    await other.connect();
    let overtaken = false;
    const sink = new HookedSink(
      new PostgresSink({ url: testEnv.postgresUrl, schema: f.pgCtx.schema, name: 'postgres' }),
      {
        beforeApply: async (batches) => {
          const late = batches.flatMap((b) => b.events).find((e) => e.key === 'late');
          if (!late || overtaken) return;
          overtaken = true;
          // What its commit leaves behind: the partition's stored offset at the late event.
          await other.rewindOffset('todo', p, late.id);
        },
      },
    );
    const schemaId = f.capture.schemaOf('todo').id;
    await appendUndecodable(f.redisCtx.redis, f.capture.keys, 'todo', p, 'late', schemaId);
    await f.capture.upsert('todo', { id: sibling, name: 'after the late one' });
    const runner = await startTestRunner(sink, f.prefix, 'late');
    f.runners.push(runner);
    try {
      await waitFor('todo applied', () => f.appliedAll('todo'));
      assert.equal(overtaken, true, 'the corrupt event reached an apply');
      assert.equal((await f.rows('todo')).get(sibling)?.name, 'after the late one');
      assert.deepEqual(await letters.list({ key: 'late' }), [], 'the fenced event was refused');
    } finally {
      await runner.stop();
      await other.close();
    }
  });

  test('two instances share the partitions and the result is exact', async () => {
    const [a, b] = [await f.startRunner('e1'), await f.startRunner('e2')];
    await waitFor(
      'partitions split',
      () =>
        a.ownedPartitions().length > 0 &&
        b.ownedPartitions().length > 0 &&
        a.ownedPartitions().length + b.ownedPartitions().length === 2 * P,
      10_000,
    );
    const writes = [];
    for (let round = 0; round < 5; round++)
      for (let k = 0; k < 200; k++)
        writes.push({ op: 'upsert' as const, record: { id: `s${k}`, name: `r${round}` } });
    for (let k = 0; k < 200; k += 7) writes.push({ op: 'delete' as const, key: `s${k}` });
    await f.capture.writeMany('todo', writes);
    await waitFor('todo applied', () => f.appliedAll('todo'));
    const expected = [
      ...(await expectedState(f.redisCtx.redis, f.capture.keys, f.capture.registry, 'todo', P)),
    ].filter(([k]) => k.startsWith('s'));
    const actual = [...(await f.rows('todo'))].filter(([k]) => k.startsWith('s'));
    assert.equal(actual.length, expected.length);
    assert.equal(expected.length, 200 - Math.ceil(200 / 7));
    const byKey = new Map(actual);
    for (const [key, record] of expected) assert.equal(byKey.get(key)?.name, record.name, key);
    await a.stop();
    await b.stop();
  });
});
