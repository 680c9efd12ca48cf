import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedisClient } from '../../runtime/redis-client.ts';
import { NotAppliedMarks } from '../../runtime/watermark/not-applied-marks.ts';

/** A client that answers MGET from a map and records each MGET's keys. */
function fakeRedis(
  marks: Record<string, string>,
  calls: string[][],
  fail = false,
  isCluster = false,
): RedisClient {
  return {
    isCluster,
    mget: async (keys: string[]) => {
      calls.push(keys);
      if (fail) throw new Error('connection lost');
      return keys.map((key) => marks[key] ?? null);
    },
  } as unknown as RedisClient;
}

test('on one server the checks asked in the same turn go in one MGET, each answered its own marks', async () => {
  const calls: string[][] = [];
  const marks = new NotAppliedMarks(fakeRedis({ 'p0:b': 'dead-lettered' }, calls));
  const [a, b, c] = await Promise.all([
    marks.read('p0', ['p0:a']),
    marks.read('p0', ['p0:b', 'p0:c']),
    marks.read('p1', ['p1:a']),
  ]);
  assert.deepEqual(a, [null]);
  assert.deepEqual(b, ['dead-lettered', null]);
  assert.deepEqual(c, [null]);
  assert.deepEqual(calls, [['p0:a', 'p0:b', 'p0:c', 'p1:a']]);
});

test('on a cluster the checks of one partition asked in the same turn go in one MGET', async () => {
  const calls: string[][] = [];
  const marks = new NotAppliedMarks(fakeRedis({ 'p0:b': 'dead-lettered' }, calls, false, true));
  const [a, b, c] = await Promise.all([
    marks.read('p0', ['p0:a']),
    marks.read('p0', ['p0:b', 'p0:c']),
    marks.read('p1', ['p1:a']),
  ]);
  assert.deepEqual(a, [null]);
  assert.deepEqual(b, ['dead-lettered', null]);
  assert.deepEqual(c, [null]);
  assert.deepEqual(calls, [['p0:a', 'p0:b', 'p0:c'], ['p1:a']]);
});

test('a check asked after the flush goes in a later MGET', async () => {
  const calls: string[][] = [];
  const marks = new NotAppliedMarks(fakeRedis({}, calls));
  await marks.read('p0', ['p0:a']);
  await marks.read('p0', ['p0:b']);
  assert.deepEqual(calls, [['p0:a'], ['p0:b']]);
});

test('a failed MGET fails every check it carried', async () => {
  const marks = new NotAppliedMarks(fakeRedis({}, [], true));
  const results = await Promise.allSettled([
    marks.read('p0', ['p0:a']),
    marks.read('p0', ['p0:b']),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
});
