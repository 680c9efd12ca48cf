import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGroupFields } from '../../runtime/consumer-groups.ts';

// As Redis 7.0 answers XINFO GROUPS for one group.
const fields = (lag: number | null) => [
  'name',
  'postgres',
  'consumers',
  1,
  'pending',
  3,
  'last-delivered-id',
  '1700000000000-5',
  'entries-read',
  lag === null ? null : 40,
  'lag',
  lag,
];

test('a group is read from its field list', () => {
  assert.deepEqual(parseGroupFields(fields(7)), {
    name: 'postgres',
    lastDelivered: '1700000000000-5',
    pending: 3,
    lag: 7,
  });
});

test('a lag Redis cannot tell is unknown, not zero', () => {
  assert.equal(parseGroupFields(fields(null)).lag, undefined);
});

test('a server without the lag field (before 7.0) gives an unknown lag', () => {
  assert.equal(
    parseGroupFields(['name', 'g', 'pending', 0, 'last-delivered-id', '0-0']).lag,
    undefined,
  );
});
