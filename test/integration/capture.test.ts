import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { NotFoundError } from '../../runtime/errors/not-found-error.ts';
import { UnknownEntityError } from '../../runtime/errors/unknown-entity-error.ts';
import { ValidationError } from '../../runtime/errors/validation-error.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestRedis } from '../helpers/redis.ts';
import { createTestCapture, keysUnder, schemaFile } from '../support/capture-fixtures.ts';
import { assertCacheMatchesLog, readLog } from '../support/log-checker.ts';

const P = 4;

describe('capture against real Redis', () => {
  let ctx: Awaited<ReturnType<typeof createTestRedis>>;
  let capture: Capture;
  let prefix: string;

  before(async () => {
    ctx = await createTestRedis('capture');
    prefix = ctx.capturePrefix;
    capture = await createTestCapture(prefix, ['todo', 'user'], P);
  });

  after(async () => {
    await capture.close();
    await ctx.cleanup();
  });

  test('an upsert writes the cache and appends one event that decodes to the same record', async () => {
    const result = await capture.upsert('todo', { id: 'a1', name: 'buy milk' });
    assert.equal(result.duplicate, false);
    assert.equal(result.partition, partitionOf('a1', P));
    const cached = await capture.get('todo', 'a1');
    assert.equal(cached?.version, result.id);
    assert.deepEqual(cached?.record, {
      id: 'a1',
      name: 'buy milk',
      description: null,
      done: false,
      created_at: null,
      updated_at: null,
    });
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key === 'a1',
    );
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.record, cached?.record);
  });

  test('a delete removes the cache value and appends a delete event', async () => {
    await capture.upsert('todo', { id: 'd1', name: 'x' });
    const deleted = await capture.delete('todo', 'd1');
    assert.equal(await capture.get('todo', 'd1'), undefined);
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key === 'd1',
    );
    assert.deepEqual(
      events.map((e) => e.op),
      ['upsert', 'delete'],
    );
    assert.equal(events[1]?.id, deleted.id);
  });

  test('rejected input writes nothing at all', async () => {
    const before = await keysUnder(ctx.redis, `${prefix}:{*`);
    const lengths = async () =>
      Promise.all([0, 1, 2, 3].map((p) => ctx.redis.xlen(capture.keys.stream('todo', p))));
    const lengthsBefore = await lengths();
    await assert.rejects(capture.upsert('todo', { id: 'r1', name: 42 }), ValidationError);
    await assert.rejects(capture.upsert('todo', { id: 'r1' }), ValidationError);
    await assert.rejects(
      capture.upsert('todo', { id: 'r1', name: 'n', extra: true }),
      ValidationError,
    );
    await assert.rejects(
      capture.upsert('todo', { id: 'other', name: 'n' }, { key: 'r1' }),
      ValidationError,
    );
    await assert.rejects(capture.upsert('nope', { id: 'r1' }), UnknownEntityError);
    await assert.rejects(capture.delete('user', 'not-a-number'), ValidationError);
    await assert.rejects(
      capture.writeMany('todo', [
        { op: 'upsert', record: { id: 'r2', name: 'fine' } },
        { op: 'upsert', record: { id: 'r3' } },
      ]),
      (err: unknown) => err instanceof ValidationError && err.issues[0]?.path === '[1].name',
    );
    assert.deepEqual(await keysUnder(ctx.redis, `${prefix}:{*`), before);
    assert.deepEqual(await lengths(), lengthsBefore);
  });

  test('an idempotency key repeated within the window returns the first result and appends nothing', async () => {
    const first = await capture.upsert(
      'todo',
      { id: 'i1', name: 'once' },
      { idempotencyKey: 'req-1' },
    );
    const again = await capture.upsert(
      'todo',
      { id: 'i1', name: 'twice' },
      { idempotencyKey: 'req-1' },
    );
    assert.equal(again.id, first.id);
    assert.equal(again.duplicate, true);
    assert.equal((await capture.get('todo', 'i1'))?.record.name, 'once');
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key === 'i1',
    );
    assert.equal(events.length, 1);
  });

  test('idempotency records of different keys never collide ("x:y"+"z" vs "x"+"y:z")', async () => {
    const one = await createCapture({
      redis: { url: testEnv.redisUrl },
      prefix: `${prefix}-one`,
      entities: { todo: { schema: schemaFile('todo'), partitions: 1 } },
    });
    try {
      await one.upsert('todo', { id: 'x:y', name: 'a' }, { idempotencyKey: 'z' });
      const second = await one.upsert('todo', { id: 'x', name: 'b' }, { idempotencyKey: 'y:z' });
      assert.equal(second.duplicate, false);
      assert.equal((await one.get('todo', 'x'))?.record.name, 'b');
    } finally {
      await one.close();
      const stale = await keysUnder(ctx.redis, `${prefix}-one:*`);
      if (stale.length > 0) await ctx.redis.del(...stale);
    }
  });

  test('a batch-level idempotency key makes a retried batch write nothing', async () => {
    const batch = [
      { op: 'upsert' as const, record: { id: 'b1', name: 'one' } },
      { op: 'delete' as const, key: 'b2' },
    ];
    const first = await capture.writeMany('todo', batch, { idempotencyKey: 'batch-1' });
    const again = await capture.writeMany('todo', batch, { idempotencyKey: 'batch-1' });
    assert.deepEqual(
      again.map((r) => r.id),
      first.map((r) => r.id),
    );
    assert.deepEqual(
      again.map((r) => r.duplicate),
      [true, true],
    );
  });

  test('the idempotency window expires', async () => {
    const short = await createCapture({
      redis: { url: testEnv.redisUrl },
      prefix,
      entities: { todo: { partitions: P } },
      idempotencyWindowMs: 50,
    });
    try {
      const first = await short.upsert('todo', { id: 'w1', name: 'a' }, { idempotencyKey: 'k' });
      await new Promise((r) => setTimeout(r, 120));
      const second = await short.upsert('todo', { id: 'w1', name: 'b' }, { idempotencyKey: 'k' });
      assert.notEqual(second.id, first.id);
      assert.equal(second.duplicate, false);
    } finally {
      await short.close();
    }
  });

  test("each key's events stay in one partition, in write order", async () => {
    const writes = [];
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 40; k++)
        writes.push({ op: 'upsert' as const, record: { id: `o${k}`, name: `v${round}` } });
    }
    await capture.writeMany('todo', writes);
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key.startsWith('o'),
    );
    const partitionsSeen = new Set<number>();
    for (let k = 0; k < 40; k++) {
      const own = events.filter((e) => e.key === `o${k}`);
      assert.deepEqual(
        own.map((e) => e.record?.name),
        ['v0', 'v1', 'v2', 'v3', 'v4'],
      );
      assert.equal(new Set(own.map((e) => e.partition)).size, 1);
      assert.equal(own[0]!.partition, partitionOf(`o${k}`, P));
      partitionsSeen.add(own[0]!.partition);
    }
    assert.equal(partitionsSeen.size, P, 'keys spread over every partition');
  });

  test('concurrent writers to one key leave the cache equal to the last event of the key', async () => {
    const writers = await Promise.all(
      Array.from({ length: 4 }, () =>
        createCapture({
          redis: { url: testEnv.redisUrl },
          prefix,
          entities: { todo: { partitions: P } },
        }),
      ),
    );
    try {
      await Promise.all(
        writers.map((w, wi) =>
          (async () => {
            for (let i = 0; i < 50; i++) await w.upsert('todo', { id: 'hot', name: `w${wi}-${i}` });
          })(),
        ),
      );
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
    const last = await assertCacheMatchesLog(ctx.redis, capture.keys, capture.registry, 'todo', P);
    assert.equal(last.get('hot')?.record?.name, (await capture.get('todo', 'hot'))?.record.name);
  });

  test('cache and log agree when the client connection is killed in the middle of a batch', async () => {
    const victim = new Redis(testEnv.redisUrl, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    victim.on('error', () => undefined);
    const victimId = String(await victim.client('ID'));
    const batcher = await createCapture({
      redis: victim,
      prefix,
      entities: { user: { partitions: P } },
    });
    const writes = Array.from({ length: 50_000 }, (_, i) => ({
      op: 'upsert' as const,
      record: {
        id: i % 500,
        username: `u${i}`,
        email: 'e@x',
        password_hash: 'h',
        created_at: i,
        updated_at: i,
      },
    }));
    // The batch is prepared synchronously, so a timer in this process could only fire after all
    // of it was sent: another process kills the connection once Redis has applied part of it.
    const killer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Redis } from 'ioredis';
         const r = new Redis(process.argv[1]); await r.ping(); console.log('ready');
         const stream = process.argv[3];
         process.stdin.once('data', async () => {
           while (Number(await r.xlen(stream)) < 100) await new Promise((ok) => setTimeout(ok, 1));
           await r.client('KILL', 'ID', process.argv[2]).catch(() => 0);
           r.disconnect();
         });`,
        testEnv.redisUrl,
        victimId,
        capture.keys.stream('user', 0),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    await once(killer.stdout!, 'data');
    killer.stdin!.end('go\n');
    const batch = batcher.writeMany('user', writes).then(
      () => 'finished',
      () => 'cut',
    );
    const outcome = await batch;
    await once(killer, 'exit');
    victim.disconnect();
    const written = (await readLog(ctx.redis, capture.keys, capture.registry, 'user', P)).length;
    assert.equal(outcome, 'cut', 'the connection was killed before the batch finished');
    assert.ok(
      written > 0 && written < writes.length,
      `a cut batch writes a prefix only (${written})`,
    );
    await assertCacheMatchesLog(ctx.redis, capture.keys, capture.registry, 'user', P);
  });

  test('a patch changes only the given fields and its event carries the whole merged record', async () => {
    await capture.upsert('todo', { id: 'p1', name: 'n', description: 'd' });
    const result = await capture.patch('todo', 'p1', { done: true });
    const cached = await capture.get('todo', 'p1');
    assert.equal(cached?.version, result.id);
    assert.deepEqual(cached?.record, {
      id: 'p1',
      name: 'n',
      description: 'd',
      done: true,
      created_at: null,
      updated_at: null,
    });
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key === 'p1',
    );
    assert.deepEqual(events.at(-1)?.record, cached?.record);
  });

  test('patching a missing key is NotFoundError and a bad patch writes nothing', async () => {
    await assert.rejects(capture.patch('todo', 'nobody', { name: 'x' }), NotFoundError);
    await capture.upsert('todo', { id: 'p2', name: 'n' });
    const before = await capture.get('todo', 'p2');
    await assert.rejects(capture.patch('todo', 'p2', { done: 'yes' }), ValidationError);
    await assert.rejects(capture.patch('todo', 'p2', { id: 'other' }), ValidationError);
    await assert.rejects(capture.patch('todo', 'p2', { colour: 'red' }), ValidationError);
    assert.deepEqual(await capture.get('todo', 'p2'), before);
  });

  test('concurrent patches of different fields of one key all survive', async () => {
    await capture.upsert('todo', { id: 'p3', name: 'start' });
    const writers = await Promise.all(
      Array.from({ length: 3 }, () =>
        createCapture({
          redis: { url: testEnv.redisUrl },
          prefix,
          entities: { todo: { partitions: P } },
        }),
      ),
    );
    try {
      await Promise.all([
        (async () => {
          for (let i = 0; i < 30; i++) await writers[0]!.patch('todo', 'p3', { name: `name-${i}` });
        })(),
        (async () => {
          for (let i = 0; i < 30; i++)
            await writers[1]!.patch('todo', 'p3', { description: `desc-${i}` });
        })(),
        (async () => {
          for (let i = 0; i < 30; i++) await writers[2]!.patch('todo', 'p3', { done: i % 2 === 0 });
        })(),
      ]);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
    const record = (await capture.get('todo', 'p3'))?.record;
    assert.equal(record?.name, 'name-29');
    assert.equal(record?.description, 'desc-29');
    assert.equal(record?.done, false);
    await assertCacheMatchesLog(ctx.redis, capture.keys, capture.registry, 'todo', P);
  });

  test('an entity whose key field is not in its schema is refused and pins nothing', async () => {
    await assert.rejects(
      createCapture({
        redis: { url: testEnv.redisUrl },
        prefix,
        entities: { gadget: { schema: schemaFile('todo'), keyField: 'serial' } },
      }),
      (err: unknown) => err instanceof ConfigError && /key field "serial"/.test(err.message),
    );
    assert.equal(await ctx.redis.hexists(capture.keys.entities(), 'gadget'), 0);
  });

  test('a capture with a different partition count for an existing entity is refused', async () => {
    await assert.rejects(
      createCapture({
        redis: { url: testEnv.redisUrl },
        prefix,
        entities: { todo: { partitions: 8 } },
      }),
      ConfigError,
    );
  });
});
