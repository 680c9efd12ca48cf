import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { consumerGroups } from '../../runtime/consumer-groups.ts';
import { clusterMasterOf } from '../../runtime/redis-cluster-route.ts';
import { type RespReply, tokenText } from '../../runtime/resp/resp-reply.ts';
import {
  type ReadSession,
  readConnectionOptions,
  StreamReadConnection,
} from '../../runtime/resp/stream-read-connection.ts';
import { LeasedStreamRead } from '../../runtime/sink/source/leased-stream-read.ts';
import { RedisStreamSource } from '../../runtime/sink/source/redis-stream-source.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

/** Entries of an entity pending for `consumer` in the sink's group, per partition. */
async function pendingFor(
  f: PostgresSinkFixture,
  consumer: string,
  entity = 'todo',
): Promise<number[]> {
  const counts: number[] = [];
  for (let p = 0; p < P; p++) {
    const [, , , consumers] = (await f.redisCtx.redis.xpending(
      f.capture.keys.stream(entity, p),
      'postgres',
    )) as [number, string | null, string | null, Array<[string, string]> | null];
    counts.push(Number(consumers?.find(([name]) => name === consumer)?.[1] ?? 0));
  }
  return counts;
}

/** The group's last delivered id in each partition. */
async function lastDelivered(f: PostgresSinkFixture): Promise<string[]> {
  const ids: string[] = [];
  for (let p = 0; p < P; p++) {
    const groups = await consumerGroups(f.redisCtx.redis, f.capture.keys.stream('todo', p));
    ids.push(groups.find((g) => g.name === 'postgres')?.lastDelivered ?? '');
  }
  return ids;
}

/**
 * A read connection that runs `between` once, after the reply to the next lease check (`WATCH`
 * and `MGET`) came and before the reads are sent: what another client does between the two
 * round trips of a lease-checked read.
 */
class InterruptedReadConnection extends StreamReadConnection {
  between: (() => Promise<void>) | undefined;

  override async pipelineOn(
    session: ReadSession,
    commands: ReadonlyArray<ReadonlyArray<string | number>>,
    timeoutMs: number,
  ): Promise<Array<PromiseSettledResult<RespReply>> | undefined> {
    const settled = await super.pipelineOn(session, commands, timeoutMs);
    const between = this.between;
    if (between && commands.some((c) => c[0] === 'MGET')) {
      this.between = undefined;
      await between();
    }
    return settled;
  }
}

/** The group's last delivered id and what is pending for `consumer`, on one stream. */
async function groupState(
  f: PostgresSinkFixture,
  stream: string,
  consumer: string,
): Promise<{ lastDelivered: string; pending: number }> {
  const groups = await consumerGroups(f.redisCtx.redis, stream);
  const pending = (await f.redisCtx.redis.xpending(
    stream,
    'postgres',
    '-',
    '+',
    1000,
    consumer,
  )) as unknown[];
  return {
    lastDelivered: groups.find((g) => g.name === 'postgres')?.lastDelivered ?? '',
    pending: pending.length,
  };
}

// An instance paused past its lease (a long collection, a frozen VM) that resumes before its
// heartbeat sees the lease gone must not read through the group: what it read would be pending
// for it, the new owner reads only its own pending entries and new ones, and the former owner
// drops what it read. Reads and takeover claims check the lease in the same script.
describe('reads and claims only while the lease is held (real Redis and PostgreSQL)', () => {
  let f: PostgresSinkFixture;

  before(async () => {
    f = await createPostgresSinkFixture('leased_read', ['todo'], P);
  });

  after(() => f.cleanup());

  test('a runner whose leases another instance took reads nothing of those partitions; their entries stay for the new owner', async () => {
    // A long lease: its heartbeat (every 10 s) will not see the leases go during the test, as
    // for an instance that just resumed from a pause.
    const a = await f.startRunner('a', {}, 'postgres', { leaseMs: 30_000 });
    await f.capture.upsert('todo', { id: 'first', name: 'before' });
    await waitFor('first applied', () => f.appliedAll('todo'));
    assert.equal(a.ownedPartitions().length, P);
    const delivered = await lastDelivered(f);

    // Another instance takes every partition while `a` is blocked waiting for entries.
    for (let p = 0; p < P; p++)
      await f.redisCtx.redis.set(f.capture.keys.lease('todo', p, 'postgres'), 'b', 'PX', 60_000);
    await f.capture.writeMany(
      'todo',
      Array.from({ length: 40 }, (_, i) => ({
        op: 'upsert' as const,
        record: { id: `k${i}`, name: `written ${i}` },
      })),
    );
    // `a` reads every 100 ms: plenty of reads in this time.
    await sleep(1000);

    assert.deepEqual(
      await lastDelivered(f),
      delivered,
      'entries were delivered to the former owner',
    );
    assert.deepEqual(await pendingFor(f, 'a'), [0, 0]);
    const rows = await f.rows('todo');
    assert.equal(rows.get('first')?.name, 'before');
    assert.equal(
      [...rows.keys()].filter((id) => id.startsWith('k')).length,
      0,
      'the former owner applied entries of partitions it no longer owns',
    );
    assert.deepEqual(a.ownedPartitions(), [], 'the refused partitions are still owned');

    // The new owner gets every entry.
    await a.stop();
    for (let p = 0; p < P; p++)
      await f.redisCtx.redis.del(f.capture.keys.lease('todo', p, 'postgres'));
    const b = await f.startRunner('b');
    await waitFor('the new owner caught up', () => f.appliedAll('todo'), 20_000);
    const after = await f.rows('todo');
    for (let i = 0; i < 40; i++) assert.equal(after.get(`k${i}`)?.name, `written ${i}`);
    await b.stop();
  });

  test('a takeover whose lease went meanwhile claims nothing of what the owner after it has pending', async () => {
    // A stream of its own, which no runner of the fixture reads.
    const ref = { entity: 'claimed', partition: 0 };
    const { redis } = f.redisCtx;
    const { keys } = f.capture;
    const stream = keys.stream('claimed', 0);
    const lease = keys.lease('claimed', 0, 'postgres');
    const source = new RedisStreamSource({
      redis,
      keys,
      group: 'postgres',
      consumer: 'late',
      batchSize: 100,
      blockMs: 100,
    });
    try {
      await source.open([ref, { entity: 'claimed', partition: 1 }]);
      await redis.set(lease, 'owner', 'PX', 60_000);
      for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'n', String(i));
      // The owner read them and has not applied them yet.
      await redis.xreadgroup('GROUP', 'postgres', 'owner', 'COUNT', 100, 'STREAMS', stream, '>');
      assert.equal((await pendingFor(f, 'owner', 'claimed'))[0], 5);

      assert.equal(await source.take(ref, '0-0'), undefined);
      assert.equal((await pendingFor(f, 'owner', 'claimed'))[0], 5);
      assert.equal((await pendingFor(f, 'late', 'claimed'))[0], 0);

      // With the lease, the same takeover claims them.
      await redis.set(lease, 'late', 'PX', 60_000);
      const takeover = await source.take(ref, '0-0');
      assert.equal(takeover?.reclaimed, 5);
      assert.equal((await pendingFor(f, 'late', 'claimed'))[0], 5);
    } finally {
      source.close();
    }
  });

  test('a runner reads on after the server lost its scripts (SCRIPT FLUSH)', async () => {
    const runner = await f.startRunner('c');
    await f.capture.upsert('todo', { id: 'flush-1', name: 'before the flush' });
    await waitFor('applied before the flush', async () => (await f.rows('todo')).has('flush-1'));
    const { redis } = f.redisCtx;
    // On a cluster every master loses its scripts.
    for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis])
      await node.script('FLUSH');
    await f.capture.upsert('todo', { id: 'flush-2', name: 'after the flush' });
    await waitFor('applied after the flush', async () => (await f.rows('todo')).has('flush-2'));
    await runner.stop();
  });

  describe('a lease that changes between the check and the read', () => {
    const ref = { entity: 'between', partition: 0 };
    let stream: string;
    let lease: string;
    let reader: InterruptedReadConnection;
    let leased: LeasedStreamRead;

    before(async () => {
      const { redis } = f.redisCtx;
      stream = f.capture.keys.stream(ref.entity, ref.partition);
      lease = f.capture.keys.lease(ref.entity, ref.partition, 'postgres');
      await redis.xgroup('CREATE', stream, 'postgres', '0', 'MKSTREAM');
      for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'n', String(i));
      // On a cluster, the master of the partition's slot, as the runner's reads.
      const node = redis instanceof Cluster ? clusterMasterOf(redis, stream)!.node : redis;
      reader = new InterruptedReadConnection(readConnectionOptions(node));
      leased = new LeasedStreamRead(reader, 'postgres', 'a');
    });

    after(() => reader.close());

    const read = () => leased.read([{ stream, lease, cursor: '>' }], 100, 5_000);

    test('a lease taken by another instance after the check: the read delivers nothing and is refused', async () => {
      const { redis } = f.redisCtx;
      await redis.set(lease, 'a', 'PX', 60_000);
      const before = await groupState(f, stream, 'a');
      reader.between = async () => {
        await redis.set(lease, 'b', 'PX', 60_000);
      };
      assert.deepEqual(await read(), [{ kind: 'refused' }]);
      assert.equal(reader.between, undefined, 'the lease was not changed between the round trips');
      assert.deepEqual(await groupState(f, stream, 'a'), before, 'entries were delivered');
    });

    test('a lease renewed by its holder after the check: the aborted read is made again and reads', async () => {
      const { redis } = f.redisCtx;
      await redis.set(lease, 'a', 'PX', 60_000);
      reader.between = async () => {
        // What the holder's heartbeat does (renew-lease-1.lua): the key is touched, not taken.
        await redis.pexpire(lease, 60_000);
      };
      const [result] = await read();
      assert.equal(reader.between, undefined);
      assert.equal(result?.kind, 'read');
      assert.equal(result?.kind === 'read' ? result.entries?.ids.length : 0, 5);
      assert.equal((await groupState(f, stream, 'a')).pending, 5);
    });

    test("two reads at once on one reader: the second is checked too, not run after the first one's EXEC ended the watch", async () => {
      const { redis } = f.redisCtx;
      await redis.set(lease, 'a', 'PX', 60_000);
      await redis.xadd(stream, '*', 'n', 'two at once');
      const before = await groupState(f, stream, 'a');
      reader.between = async () => {
        await redis.set(lease, 'b', 'PX', 60_000);
      };
      const twice = await Promise.all([read(), read()]);
      assert.equal(reader.between, undefined);
      assert.deepEqual(twice, [[{ kind: 'refused' }], [{ kind: 'refused' }]]);
      assert.deepEqual(await groupState(f, stream, 'a'), before, 'entries were delivered');
    });

    test('a read connection killed between the check and the read sends no unwatched read on the next one', async () => {
      const { redis } = f.redisCtx;
      await redis.set(lease, 'a', 'PX', 60_000);
      await redis.xadd(stream, '*', 'n', 'after the kill');
      const before = await groupState(f, stream, 'a');
      const clientId = async () => tokenText(await reader.command(['CLIENT', 'ID'], 5_000), 0);
      const id = await clientId();
      reader.between = async () => {
        // The server drops the connection, and with it the WATCH; the lease goes meanwhile.
        const node = redis instanceof Cluster ? clusterMasterOf(redis, stream)!.node : redis;
        await node.client('KILL', 'ID', id);
        await redis.set(lease, 'b', 'PX', 60_000);
        // Let the read connection see its socket close.
        await sleep(100);
      };
      assert.deepEqual(await read(), [{ kind: 'refused' }]);
      assert.equal(reader.between, undefined);
      assert.deepEqual(await groupState(f, stream, 'a'), before, 'entries were delivered');
      assert.notEqual(await clientId(), id, 'the read connection was not replaced');
    });
  });
});
