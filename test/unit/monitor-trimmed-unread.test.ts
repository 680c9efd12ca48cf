import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type StreamInfo, trimmedUnread } from '../../runtime/monitor/trimmed-unread.ts';

const stream = (s: Partial<StreamInfo>): StreamInfo => ({
  length: 10,
  entriesAdded: 20,
  maxDeletedId: '0-0',
  firstId: '11-0',
  ...s,
});
const group = { name: 'pg', pending: 0, lag: 0 };

test('nothing trimmed, nothing lost', () => {
  assert.equal(
    trimmedUnread({ ...group, lastDelivered: '0-0', lag: 20 }, undefined, stream({ length: 20 })),
    false,
  );
});

test('trimmed below what the group read is no loss', () => {
  assert.equal(
    trimmedUnread(
      { ...group, lastDelivered: '15-0', lag: 5 },
      undefined,
      stream({ maxDeletedId: '10-0' }),
    ),
    false,
  );
});

test('trimmed above the last delivered entry: entries the group never read are gone', () => {
  assert.equal(
    trimmedUnread(
      { ...group, lastDelivered: '5-0', lag: undefined },
      undefined,
      stream({ maxDeletedId: '10-0' }),
    ),
    true,
  );
});

test('a pending entry trimmed is lost too, though it was delivered', () => {
  const g = { ...group, lastDelivered: '15-0', pending: 3, lag: 5 };
  assert.equal(trimmedUnread(g, '9-0', stream({ maxDeletedId: '10-0' })), true);
  assert.equal(trimmedUnread(g, '12-0', stream({ maxDeletedId: '10-0' })), false);
});

test('a lag longer than the stream means entries went before delivery (the entries-read gap)', () => {
  assert.equal(
    trimmedUnread({ ...group, lastDelivered: '0-0', lag: 20 }, undefined, stream({ length: 10 })),
    true,
  );
});
