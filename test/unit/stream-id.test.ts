import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareStreamIds,
  isStreamId,
  splitStreamId,
  streamIdNumbers,
  streamIdTime,
} from '../../runtime/stream-id.ts';

test('stream ids compare numerically, not as strings', () => {
  assert.ok(compareStreamIds('9-0', '10-0') < 0);
  assert.ok(compareStreamIds('10-2', '10-10') < 0);
  assert.ok(compareStreamIds('1700000000000-5', '1700000000000-5') === 0);
  assert.ok(compareStreamIds('1700000000001-0', '1700000000000-99') > 0);
});

test('malformed stream ids are rejected', () => {
  assert.equal(isStreamId('12-3'), true);
  assert.equal(isStreamId('12'), false);
  for (const bad of ['x-1', '1-', '-1', '1-2-3', '1--2', '', '1', '1-2 ', '１-2'])
    assert.throws(() => compareStreamIds(bad, '1-1'), TypeError, bad);
});

test('stream id parts as numbers, or undefined beyond safe integers', () => {
  assert.deepEqual(streamIdNumbers('1700000000123-7'), [1700000000123, 7]);
  assert.deepEqual(streamIdNumbers('0-0'), [0, 0]);
  assert.equal(streamIdNumbers('18446744073709551615-0'), undefined);
  assert.equal(streamIdNumbers('1-9007199254740992'), undefined);
  for (const bad of ['1-', '-1', '1-2-3', 'a-1', '12'])
    assert.throws(() => streamIdNumbers(bad), TypeError, bad);
});

test('the time part of a stream id is its ms timestamp', () => {
  assert.equal(streamIdTime('1700000000123-7'), 1700000000123);
});

test('comparison agrees with numeric order across digit boundaries and large values', () => {
  const ids = [
    '0-0',
    '0-1',
    '9-0',
    '9-10',
    '10-0',
    '10-2',
    '99-99',
    '100-0',
    '18446744073709551615-0',
    '18446744073709551615-18446744073709551615',
  ];
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < ids.length; j++) {
      assert.equal(
        Math.sign(compareStreamIds(ids[i]!, ids[j]!)),
        Math.sign(i - j),
        `${ids[i]} vs ${ids[j]}`,
      );
    }
  }
});

test('splitStreamId gives the two decimal parts', () => {
  assert.deepEqual(splitStreamId('1700000000123-7'), ['1700000000123', '7']);
  assert.throws(() => splitStreamId('1700000000123'), TypeError);
});
