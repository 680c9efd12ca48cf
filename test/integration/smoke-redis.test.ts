import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestRedisClient } from '../helpers/redis.ts';

describe('redis smoke', { timeout: 60_000 }, () => {
  test('an entry added with XADD is read by a group and leaves no pending entry after XACK', async () => {
    // Made inside the test, not in a before hook: Node 20 reports a failed hook as cancelled
    // tests rather than failed ones, and an unreachable server must count as a failure.
    const t = await createTestRedisClient('smoke_redis');
    try {
      const { redis, prefix } = t;
      const stream = `${prefix}stream`;
      const group = 'smoke';

      await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
      const id = await redis.xadd(
        stream,
        '*',
        'op',
        'upsert',
        'key',
        'todo:1',
        'payload',
        '{"n":1}',
      );
      assert.ok(id);

      const reply = await redis.xreadgroup(
        'GROUP',
        group,
        'consumer-1',
        'COUNT',
        10,
        'BLOCK',
        2_000,
        'STREAMS',
        stream,
        '>',
      );
      // ioredis types XREADGROUP's reply loosely; its shape is [[stream, [[id, fields]]]].
      const entries = (reply as [string, [string, string[]][]][] | null)?.[0]?.[1];
      assert.deepEqual(entries, [[id, ['op', 'upsert', 'key', 'todo:1', 'payload', '{"n":1}']]]);

      const [pendingBefore] = (await redis.xpending(stream, group)) as [number];
      assert.equal(pendingBefore, 1);

      assert.equal(await redis.xack(stream, group, id), 1);
      const [pendingAfter] = (await redis.xpending(stream, group)) as [number];
      assert.equal(pendingAfter, 0);
    } finally {
      await t.cleanup();
    }
  });
});
