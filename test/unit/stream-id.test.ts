import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStreamIds, isStreamId, streamIdTime } from '../../runtime/stream-id.ts';

test('stream ids compare numerically, not as strings', () => {
  assert.ok(compareStreamIds('9-0', '10-0') < 0);
  assert.ok(compareStreamIds('10-2', '10-10') < 0);
  assert.ok(compareStreamIds('1700000000000-5', '1700000000000-5') === 0);
  assert.ok(compareStreamIds('1700000000001-0', '1700000000000-99') > 0);
});

test('malformed stream ids are rejected', () => {
  assert.equal(isStreamId('12-3'), true);
  assert.equal(isStreamId('12'), false);
  assert.throws(() => compareStreamIds('x-1', '1-1'), TypeError);
});

test('the time part of a stream id is its ms timestamp', () => {
  assert.equal(streamIdTime('1700000000123-7'), 1700000000123);
});
