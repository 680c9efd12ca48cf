import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Capture } from '../../runtime/capture/capture.ts';
import { NoSinksError } from '../../runtime/errors/no-sinks-error.ts';
import { WriteThroughTimeoutError } from '../../runtime/errors/write-through-timeout-error.ts';
import { Keys } from '../../runtime/keys.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { WatermarkPublisher } from '../../runtime/watermark/watermark-publisher.ts';
import { connectTestRedis, createTestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';

const P = 2;

/**
 * Stands in for a sink: consumes the partition streams through its own consumer group and, after
 * a delay that plays the database commit, advances its applied watermark.
 */
function standInSink(
  prefix: string,
  sink: string,
  applyDelayMs: number,
): { ready: Promise<void>; stop: () => Promise<void> } {
  const keys = new Keys(prefix);
  const redis = connectTestRedis();
  const publisher = new WatermarkPublisher(redis, keys);
  let running = true;
  const streams = [0, 1].map((p) => keys.stream('todo', p));
  // Its consumer groups exist once `ready` resolves: capture then knows the sink.
  const ready = (async () => {
    for (const stream of streams)
      await redis.xgroup('CREATE', stream, sink, '0', 'MKSTREAM').catch(() => 0);
  })();
  const loop = (async () => {
    await ready;
    while (running) {
      // One stream per read: on a Redis Cluster the partitions live in different slots.
      const reply: Array<[string, Array<[string, string[]]>]> = [];
      for (const stream of streams) {
        const read = (await redis.xreadgroup(
          'GROUP',
          sink,
          'c1',
          'COUNT',
          100,
          'BLOCK',
          25,
          'STREAMS',
          stream,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        reply.push(...(read ?? []));
      }
      for (const [stream, entries] of reply) {
        const last = entries.at(-1);
        if (!last) continue;
        await new Promise((r) => setTimeout(r, applyDelayMs));
        await redis.xack(stream, sink, ...entries.map(([id]) => id));
        await publisher.advance({
          sink,
          entity: 'todo',
          partition: streams.indexOf(stream),
          id: last[0],
        });
      }
    }
  })();
  return {
    ready,
    async stop() {
      running = false;
      await loop;
      await redis.quit();
    },
  };
}

describe('write-through against real Redis with a stand-in sink', () => {
  let ctx: Awaited<ReturnType<typeof createTestRedis>>;
  let prefix: string;
  let capture: Capture;

  before(async () => {
    ctx = await createTestRedis('through');
    prefix = ctx.capturePrefix;
    capture = await createTestCapture(prefix, ['todo'], P, { writeThroughTimeoutMs: 2000 });
  });

  after(async () => {
    await capture.close();
    await ctx.cleanup();
  });

  test('a write-through with no sink at all is refused before anything is written', async () => {
    await assert.rejects(
      capture.upsert('todo', { id: 'n1', name: 'x' }, { mode: 'through' }),
      NoSinksError,
    );
    assert.equal(await capture.get('todo', 'n1'), undefined);
  });

  test('a write-through returns only after the sink advanced its watermark past the event', async () => {
    const sink = standInSink(prefix, 'slowsink', 150);
    try {
      await sink.ready;
      const started = Date.now();
      const result = await capture.upsert('todo', { id: 't1', name: 'x' }, { mode: 'through' });
      assert.ok(Date.now() - started >= 140, 'returned before the sink applied');
      assert.deepEqual(result.appliedBy, ['slowsink']);
      const watermark = await ctx.redis.get(
        capture.keys.watermark('todo', result.partition, 'slowsink'),
      );
      assert.ok(watermark !== null && compareStreamIds(watermark, result.id) >= 0);
      const batch = await capture.writeMany(
        'todo',
        [
          { op: 'upsert', record: { id: 't2', name: 'a' } },
          { op: 'delete', key: 't1' },
        ],
        { mode: 'through' },
      );
      assert.equal(batch.length, 2);
    } finally {
      await sink.stop();
    }
  });

  test('a write-through times out while the sink is down, and the event stays in the log', async () => {
    // The group exists (the sink ran before) but nothing consumes now.
    const err = await capture
      .upsert('todo', { id: 't3', name: 'x' }, { mode: 'through', timeoutMs: 300 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof WriteThroughTimeoutError);
    assert.deepEqual(err.pendingSinks, ['slowsink']);
    assert.equal((await capture.get('todo', 't3'))?.version, err.eventId);
    // When the sink comes back, it catches up and a new write-through succeeds.
    const sink = standInSink(prefix, 'slowsink', 0);
    try {
      await sink.ready;
      const result = await capture.upsert('todo', { id: 't3', name: 'y' }, { mode: 'through' });
      assert.deepEqual(result.appliedBy, ['slowsink']);
    } finally {
      await sink.stop();
    }
  });

  test('the watermark never moves backward', async () => {
    const publisher = new WatermarkPublisher(ctx.redis, capture.keys);
    assert.equal(
      await publisher.advance({ sink: 's', entity: 'todo', partition: 0, id: '10-5' }),
      true,
    );
    assert.equal(
      await publisher.advance({ sink: 's', entity: 'todo', partition: 0, id: '9-9' }),
      false,
    );
    assert.equal(
      await publisher.advance({ sink: 's', entity: 'todo', partition: 0, id: '10-5' }),
      false,
    );
    assert.equal(await publisher.read('todo', 0, 's'), '10-5');
    assert.equal(
      await publisher.advance({ sink: 's', entity: 'todo', partition: 0, id: '10-10' }),
      true,
    );
  });
});
