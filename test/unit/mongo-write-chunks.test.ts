import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeChunks } from '../../services/sink-mongo/src/write-chunks.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('the first run is the minimum long, the others share the rest and differ by one at most', () => {
  const chunks = writeChunks(range(1001), 4, 100);
  assert.deepEqual(
    chunks.map((c) => c.length),
    [100, 301, 300, 300],
  );
  assert.deepEqual(chunks.flat(), range(1001));
  assert.deepEqual(
    writeChunks(range(1900), 4, 100).map((c) => c.length),
    [100, 600, 600, 600],
  );
  assert.deepEqual(
    writeChunks(range(1000), 2, 100).map((c) => c.length),
    [100, 900],
  );
});

test('no run is shorter than the minimum, and a small batch stays whole', () => {
  assert.deepEqual(
    writeChunks(range(250), 4, 100).map((c) => c.length),
    [100, 150],
  );
  assert.deepEqual(
    writeChunks(range(299), 4, 100).map((c) => c.length),
    [100, 199],
  );
  assert.deepEqual(
    writeChunks(range(399), 4, 100).map((c) => c.length),
    [100, 150, 149],
  );
  assert.deepEqual(
    writeChunks(range(400), 4, 100).map((c) => c.length),
    [100, 100, 100, 100],
  );
  assert.deepEqual(writeChunks(range(199), 4, 100), [range(199)]);
  assert.deepEqual(writeChunks(range(200), 4, 100), [range(100), range(200).slice(100)]);
  assert.deepEqual(writeChunks(range(500), 1, 100), [range(500)]);
  assert.deepEqual(writeChunks([], 4, 100), []);
});

test('the runs are copies: the caller may keep the writes', () => {
  const writes = range(150);
  const [only] = writeChunks(writes, 4, 100);
  assert.notEqual(only, writes);
  assert.deepEqual(only, writes);
});

test('parts and minimum must be positive integers', () => {
  assert.throws(() => writeChunks(range(10), 0, 100), RangeError);
  assert.throws(() => writeChunks(range(10), 2, 0), RangeError);
  assert.throws(() => writeChunks(range(10), 1.5, 10), RangeError);
});
