import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type GroupReadPosition,
  type StreamInfo,
  trimmedUnread,
} from '../../runtime/monitor/trimmed-unread.ts';

/** Ids 1-0 … 20-0 were added; `length` of them are left, the newest ones. */
const stream = (length: number, s: Partial<StreamInfo> = {}): StreamInfo => ({
  length,
  entriesAdded: 20,
  maxDeletedId: '0-0',
  firstId: length > 0 ? `${21 - length}-0` : undefined,
  lastGeneratedId: '20-0',
  ...s,
});
const group = (g: Partial<GroupReadPosition>): GroupReadPosition => ({
  name: 'pg',
  lastDelivered: '0-0',
  pending: 0,
  lag: undefined,
  ...g,
});

test('nothing trimmed, nothing lost, whatever the group read', () => {
  assert.equal(trimmedUnread(group({}), stream(20)), false);
  assert.equal(trimmedUnread(group({ lastDelivered: '5-0', entriesRead: 5 }), stream(20)), false);
});

test('the entries-read gap: more entries trimmed than the group read means unread ones went', () => {
  // 1-0 … 10-0 trimmed.
  assert.equal(trimmedUnread(group({ lastDelivered: '10-0', entriesRead: 10 }), stream(10)), false);
  assert.equal(trimmedUnread(group({ lastDelivered: '15-0', entriesRead: 15 }), stream(10)), false);
  assert.equal(trimmedUnread(group({ lastDelivered: '7-0', entriesRead: 7 }), stream(10)), true);
});

test('without entries-read: a position below the oldest entry left is taken as a loss', () => {
  assert.equal(trimmedUnread(group({ lastDelivered: '0-0' }), stream(10)), true);
  assert.equal(trimmedUnread(group({ lastDelivered: '12-0' }), stream(10)), false);
  // Everything trimmed: the newest id ever added stands for the oldest left.
  assert.equal(trimmedUnread(group({ lastDelivered: '19-0' }), stream(0)), true);
  assert.equal(trimmedUnread(group({ lastDelivered: '20-0' }), stream(0)), false);
});

test('a pending entry trimmed is lost, though it was delivered', () => {
  const delivered = { lastDelivered: '15-0', entriesRead: 15, pending: 3 };
  assert.equal(trimmedUnread(group({ ...delivered, lowestPending: '9-0' }), stream(10)), true);
  assert.equal(trimmedUnread(group({ ...delivered, lowestPending: '12-0' }), stream(10)), false);
});

test('an entry deleted by hand above the position is reported', () => {
  const s = stream(19, { maxDeletedId: '12-0' });
  assert.equal(trimmedUnread(group({ lastDelivered: '10-0', entriesRead: 10 }), s), true);
  assert.equal(trimmedUnread(group({ lastDelivered: '13-0', entriesRead: 12 }), s), false);
});
