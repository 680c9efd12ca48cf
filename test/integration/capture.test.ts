import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { defineCommands } from '../../runtime/commands/index.ts';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { ConflictError } from '../../runtime/errors/conflict-error.ts';
import { NotFoundError } from '../../runtime/errors/not-found-error.ts';
import { UnknownEntityError } from '../../runtime/errors/unknown-entity-error.ts';
import { ValidationError } from '../../runtime/errors/validation-error.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { redisErrorCode } from '../../runtime/redis-errors.ts';
import { notOnClusterYet, testEnv } from '../helpers/env.ts';
import {
  connectTestRedis,
  createTestRedisClient,
  deleteKeys,
  testRedisOptions,
} from '../helpers/redis.ts';
import { createTestCapture, keysUnder, schemaFile } from '../support/capture-fixtures.ts';
import { assertCacheMatchesLog, readLog } from '../support/log-checker.ts';

const P = 4;

/**
 * A capture whose every capture-write call first awaits `before`: a test's way to land another
 * write between a patch's read of the cache and its compare-and-set.
 */
async function captureWithHook(
  prefix: string,
  before: () => Promise<void>,
): Promise<{ capture: Capture; close(): Promise<void> }> {
  const redis = defineCommands(connectTestRedis());
  const captureWrite = redis.captureWrite.bind(redis);
  redis.captureWrite = async (
    numberOfKeys: number,
    ...keysAndArgs: Array<string | number | Buffer>
  ) => {
    await before();
    return captureWrite(numberOfKeys, ...keysAndArgs);
  };
  const capture = await createCapture({ redis, prefix, entities: { todo: { partitions: P } } });
  return {
    capture,
    async close() {
      await capture.close();
      await redis.quit();
    },
  };
}

describe('capture against real Redis', () => {
  let ctx: Awaited<ReturnType<typeof createTestRedisClient>>;
  let capture: Capture;
  let prefix: string;

  before(async () => {
    ctx = await createTestRedisClient('capture');
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
      redis: testRedisOptions(),
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
      await deleteKeys(ctx.redis, await keysUnder(ctx.redis, `${prefix}-one:*`));
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

  test('a single write is a batch of one that keeps its own idempotency key, not a batch index', async () => {
    const single = await capture.upsert(
      'todo',
      { id: 's1', name: 'single' },
      { idempotencyKey: 'solo-1' },
    );
    const partition = partitionOf('s1', P);
    assert.equal(
      await ctx.redis.get(capture.keys.idempotency('todo', partition, 's1', 'solo-1')),
      single.id,
    );
    const [[rawId, fields] = []] = await ctx.redis.xrangeBuffer(
      capture.keys.stream('todo', partition),
      single.id,
      single.id,
    );
    assert.equal(decodeEnvelope(String(rawId), fields!).idempotencyKey, 'solo-1');
    // The same key on a write of a batch is the same request: a repeat that writes nothing.
    const [again] = await capture.writeMany('todo', [
      { op: 'upsert', record: { id: 's1', name: 'from a batch' }, idempotencyKey: 'solo-1' },
    ]);
    assert.deepEqual([again?.id, again?.duplicate], [single.id, true]);
    const deleted = await capture.delete('todo', 's1', { idempotencyKey: 'solo-2' });
    const deletedAgain = await capture.delete('todo', 's1', { idempotencyKey: 'solo-2' });
    assert.deepEqual([deletedAgain.id, deletedAgain.duplicate], [deleted.id, true]);
    assert.equal(await capture.get('todo', 's1'), undefined);
  });

  test('a batch whose writes have different fields appends each event with exactly its own', async () => {
    // Keys of one partition, so that the three writes travel in one script call.
    const [k1, k2, k3] = Array.from({ length: 100 }, (_, i) => `mix${i}`).filter(
      (key) => partitionOf(key, P) === 0,
    );
    const results = await capture.writeMany(
      'todo',
      [
        { op: 'upsert', record: { id: k1!, name: 'with a key' }, idempotencyKey: 'mix-1' },
        { op: 'delete', key: k2! },
        { op: 'upsert', record: { id: k3!, name: 'without' } },
      ],
      { traceId: 'trace-m' },
    );
    const names = await Promise.all(
      results.map(async (r) => {
        const [[, fields] = []] = await ctx.redis.xrange(
          capture.keys.stream('todo', r.partition),
          r.id,
          r.id,
        );
        return (fields ?? []).filter((_, i) => i % 2 === 0);
      }),
    );
    assert.deepEqual(names, [
      ['op', 'entity', 'key', 'ts', 'sid', 'data', 'idem', 'trace'],
      ['op', 'entity', 'key', 'ts', 'trace'],
      ['op', 'entity', 'key', 'ts', 'sid', 'data', 'trace'],
    ]);
    assert.equal((await capture.get('todo', k3!))?.schemaId, capture.schemaOf('todo').id);
  });

  test('an error reply of the capture-write script fails a single write and a batch with it', async () => {
    const own = `${prefix}-reply`;
    const other = await createTestCapture(own, ['todo'], P);
    try {
      // A cache key of the wrong type makes the script's HSET answer WRONGTYPE.
      await ctx.redis.set(other.keys.cache('todo', partitionOf('wt', P), 'wt'), 'not a hash');
      await assert.rejects(
        other.upsert('todo', { id: 'wt', name: 'x' }),
        (err: unknown) => redisErrorCode(err) === 'WRONGTYPE',
      );
      await assert.rejects(
        other.writeMany('todo', [{ op: 'upsert', record: { id: 'wt', name: 'y' } }]),
        (err: unknown) => redisErrorCode(err) === 'WRONGTYPE',
      );
    } finally {
      await other.close();
      await deleteKeys(ctx.redis, await keysUnder(ctx.redis, `${own}:*`));
    }
  });

  test('the idempotency window expires', async () => {
    const short = await createCapture({
      redis: testRedisOptions(),
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

  test('on a Redis Cluster each write touches one slot, the registry one slot, and a batch spans several masters', {
    skip:
      testEnv.redisClusterNodes === undefined &&
      'needs a Redis Cluster: REDIS_CLUSTER_NODES (scripts/test.sh cluster)',
  }, async () => {
    const cluster = ctx.redis;
    assert.ok(cluster instanceof Cluster);
    const slotOf = (key: string) => cluster.cluster('KEYSLOT', key);
    const writes = Array.from({ length: 40 }, (_, i) => ({
      op: 'upsert' as const,
      record: { id: `slot${i}`, name: 'n' },
      idempotencyKey: `slot-${i}`,
    }));
    const results = await capture.writeMany('todo', writes);
    const partitionSlots = new Map<number, number>();
    for (const [i, r] of results.entries()) {
      const slots = await Promise.all(
        [
          capture.keys.stream('todo', r.partition),
          capture.keys.cache('todo', r.partition, r.key),
          capture.keys.idempotency('todo', r.partition, r.key, `slot-${i}`),
          capture.keys.watermark('todo', r.partition, 'some-sink'),
          capture.keys.notApplied('todo', r.partition, 'some-sink', r.id),
        ].map(slotOf),
      );
      assert.equal(new Set(slots).size, 1, `the keys of write ${i} share a slot`);
      partitionSlots.set(r.partition, slots[0]!);
    }
    assert.equal(partitionSlots.size, P);
    // The split per partition is real: the partitions' slots are served by more than one master.
    const masters = new Set([...partitionSlots.values()].map((slot) => cluster.slots[slot]?.[0]));
    assert.ok(masters.size > 1, `partitions on ${[...masters].join(', ')}`);
    const registrySlots = await Promise.all(
      [
        capture.keys.registrySchemas(),
        capture.keys.registryVersions('todo'),
        capture.keys.registryFingerprints(),
        capture.keys.registrySequence(),
        capture.keys.entities(),
      ].map(slotOf),
    );
    assert.equal(new Set(registrySlots).size, 1, 'the registry keys share a slot');
    await assertCacheMatchesLog(ctx.redis, capture.keys, capture.registry, 'todo', P);
  });

  test('concurrent writers to one key leave the cache equal to the last event of the key', async () => {
    const writers = await Promise.all(
      Array.from({ length: 4 }, () =>
        createCapture({
          redis: testRedisOptions(),
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

  test('cache and log agree when the client connection is killed in the middle of a batch', {
    skip: notOnClusterYet(
      'the batch is cut by CLIENT KILL of its one connection; a cluster client holds one per master, and killing the one of a given node comes with the failover tests',
    ),
  }, async () => {
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
          redis: testRedisOptions(),
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

  test('a patch that lost its race is merged again onto the newer value', async () => {
    await capture.upsert('todo', { id: 'r1', name: 'start', description: 'd0' });
    let calls = 0;
    const hooked = await captureWithHook(prefix, async () => {
      calls++;
      // Three times, another writer changes the record after the patch read it.
      if (calls <= 3) await capture.patch('todo', 'r1', { description: `d${calls}` });
    });
    try {
      const result = await hooked.capture.patch('todo', 'r1', { name: 'patched' });
      assert.equal(calls, 4, 'three lost races, then the write');
      const cached = await capture.get('todo', 'r1');
      assert.equal(cached?.version, result.id);
      assert.equal(cached?.record.name, 'patched');
      assert.equal(cached?.record.description, 'd3');
    } finally {
      await hooked.close();
    }
    await assertCacheMatchesLog(ctx.redis, capture.keys, capture.registry, 'todo', P);
  });

  test('a patch that loses its race 50 times in a row is ConflictError and writes nothing', async () => {
    await capture.upsert('todo', { id: 'r2', name: 'start' });
    let calls = 0;
    const hooked = await captureWithHook(prefix, async () => {
      calls++;
      await capture.patch('todo', 'r2', { description: `other-${calls}` });
    });
    try {
      await assert.rejects(hooked.capture.patch('todo', 'r2', { name: 'patched' }), ConflictError);
    } finally {
      await hooked.close();
    }
    assert.equal(calls, 50);
    const events = (await readLog(ctx.redis, capture.keys, capture.registry, 'todo', P)).filter(
      (e) => e.key === 'r2',
    );
    assert.equal(events.length, 51, 'the first upsert and the other writer only');
    assert.ok(events.every((e) => e.record?.name === 'start'));
  });

  test('a patch whose key is deleted while it retries a lost race is NotFoundError at once', async () => {
    await capture.upsert('todo', { id: 'r3', name: 'start' });
    let calls = 0;
    const hooked = await captureWithHook(prefix, async () => {
      calls++;
      await capture.delete('todo', 'r3');
    });
    try {
      await assert.rejects(hooked.capture.patch('todo', 'r3', { name: 'patched' }), NotFoundError);
    } finally {
      await hooked.close();
    }
    assert.equal(calls, 1, 'not tried again once the key is gone');
    assert.equal(await capture.get('todo', 'r3'), undefined);
  });

  test('an entity whose key field is not in its schema is refused and pins nothing', async () => {
    await assert.rejects(
      createCapture({
        redis: testRedisOptions(),
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
        redis: testRedisOptions(),
        prefix,
        entities: { todo: { partitions: 8 } },
      }),
      ConfigError,
    );
  });
});
