import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeChunks } from '../../services/sink-mongo/src/write-chunks.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('writes are split into consecutive runs whose sizes differ by one at most', () => {
  const chunks = writeChunks(range(1001), 4, 100);
  assert.deepEqual(
    chunks.map((c) => c.length),
    [251, 250, 250, 250],
  );
  assert.deepEqual(chunks.flat(), range(1001));
});

test('no run is shorter than the minimum, and a small batch stays whole', () => {
  assert.deepEqual(
    writeChunks(range(250), 4, 100).map((c) => c.length),
    [125, 125],
  );
  assert.deepEqual(writeChunks(range(199), 4, 100), [range(199)]);
  assert.deepEqual(writeChunks(range(500), 1, 100), [range(500)]);
  assert.deepEqual(writeChunks([], 4, 100), []);
});

test('parts and minimum must be positive integers', () => {
  assert.throws(() => writeChunks(range(10), 0, 100), RangeError);
  assert.throws(() => writeChunks(range(10), 2, 0), RangeError);
  assert.throws(() => writeChunks(range(10), 1.5, 10), RangeError);
});
