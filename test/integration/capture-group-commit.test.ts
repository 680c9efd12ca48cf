import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Capture } from '../../runtime/capture/capture.ts';
import { ValidationError } from '../../runtime/errors/validation-error.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { createTestRedisClient, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';

/**
 * Group commit: single writes (upsert, patch, delete) that arrive while their partition's call
 * is in flight go together in its next capture-write call, each with its own answer.
 */
describe('capture: group commit of concurrent single writes', () => {
  let t: TestRedis<RedisClient>;
  let capture: Capture;
  const calls: number[] = [];
  before(async () => {
    t = await createTestRedisClient('group_commit');
    capture = await createTestCapture(t.capturePrefix, ['todo'], 1);
    capture.instrumentation.on('capture.called', (e) => calls.push(e.writes));
  });
  after(async () => {
    await capture.close();
    await t.cleanup();
  });

  test('200 concurrent upserts take far fewer calls than writes, each answered with its own event, in call order', async () => {
    calls.length = 0;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => capture.upsert('todo', { id: `k${i}`, name: `n${i}` })),
    );
    assert.equal(
      calls.reduce((a, b) => a + b, 0),
      200,
    );
    assert.ok(calls.length < 50, `200 writes in ${calls.length} calls: ${calls.join(',')}`);
    assert.equal(calls[0], 1, 'the first write went alone, at once');
    // One partition: ids rise in the order the writes were made.
    for (let i = 1; i < results.length; i++) {
      assert.ok(
        compareStreamIds(results[i - 1]!.id, results[i]!.id) < 0,
        `write ${i} after ${i - 1}`,
      );
    }
    assert.equal(new Set(results.map((r) => r.id)).size, 200);
    assert.equal((await capture.get('todo', 'k199'))?.record.name, 'n199');
    assert.equal(await t.redis.xlen(capture.keys.stream('todo', 0)), 200);
  });

  test('in one group each write keeps its own answer: an idempotent repeat is a duplicate, a patch merges onto the write before it, a delete applies, an invalid write fails alone', async () => {
    await capture.upsert('todo', { id: 'p1', name: 'before', description: 'kept' });
    calls.length = 0;
    const settled = await Promise.allSettled([
      capture.upsert('todo', { id: 'i1', name: 'once' }, { idempotencyKey: 'same' }),
      capture.upsert('todo', { id: 'i1', name: 'once' }, { idempotencyKey: 'same' }),
      capture.patch('todo', 'p1', { name: 'patched' }),
      capture.upsert('todo', { id: 'bad', name: 42 }),
      capture.delete('todo', 'k0'),
      capture.upsert('todo', { id: 'p2', name: 'other' }),
    ]);
    const [first, repeat, patched, invalid, deleted, other] = settled;
    assert.equal(first.status, 'fulfilled');
    assert.equal(repeat.status, 'fulfilled');
    if (first.status === 'fulfilled' && repeat.status === 'fulfilled') {
      assert.equal(first.value.duplicate, false);
      assert.equal(repeat.value.duplicate, true);
      assert.equal(repeat.value.id, first.value.id);
    }
    assert.equal(patched.status, 'fulfilled');
    assert.equal(invalid.status, 'rejected');
    if (invalid.status === 'rejected') assert.ok(invalid.reason instanceof ValidationError);
    assert.equal(deleted.status, 'fulfilled');
    assert.equal(other.status, 'fulfilled');
    const p1 = (await capture.get('todo', 'p1'))?.record;
    assert.equal(p1?.name, 'patched');
    assert.equal(p1?.description, 'kept');
    assert.equal(await capture.get('todo', 'k0'), undefined);
    assert.equal(await capture.get('todo', 'bad'), undefined);
    assert.ok(calls.length < 5, `writes went together: ${calls.join(',')}`);
  });
});
