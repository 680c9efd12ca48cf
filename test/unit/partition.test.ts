import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fnv1a32, partitionOf } from '../../runtime/partition.ts';

test('fnv1a32 matches the published FNV-1a test vectors', () => {
  // Vectors from the FNV reference test suite.
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('a key always maps to the same partition', () => {
  for (const key of ['test_id', 'user-1', 'ü', '42']) {
    assert.equal(partitionOf(key, 4), partitionOf(key, 4));
    assert.ok(partitionOf(key, 4) >= 0 && partitionOf(key, 4) < 4);
  }
});

test('keys spread over all partitions', () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[partitionOf(`key-${i}`, 4)]!++;
  for (const count of counts) assert.ok(count > 800 && count < 1200, `uneven spread ${counts}`);
});

test('partition count must be a positive integer', () => {
  assert.throws(() => partitionOf('k', 0), RangeError);
  assert.throws(() => partitionOf('k', 1.5), RangeError);
});
