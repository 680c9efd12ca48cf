import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PartitionOffsets } from '../../runtime/sink/partition-offsets.ts';

const entries = (...ids: string[]) => ids.map((id) => ({ id, deleted: false }));

test('a partition taken over reads all its pending entries first, those below the committed offset too', () => {
  const offsets = new PartitionOffsets('5-0');
  // Applied by a dead owner and never acknowledged: they must be read to be acknowledged.
  assert.equal(offsets.cursor, '0-0');
  assert.equal(offsets.caughtUp, false);
  offsets.pendingRead(['6-0', '7-0']);
  assert.equal(offsets.cursor, '7-0');
  offsets.pendingRead([]);
  assert.equal(offsets.caughtUp, true);
  assert.equal(offsets.cursor, '>');
});

test('the committed offset only moves forward, except for a replay', () => {
  const offsets = new PartitionOffsets('5-0');
  offsets.committedTo('7-0');
  offsets.committedTo('6-0');
  assert.equal(offsets.committed, '7-0');
  offsets.rewindTo('1-0');
  assert.equal(offsets.committed, '1-0');
  assert.equal(offsets.caughtUp, true, 'a replay reads new entries from the rewound group');
});

test('after a failure, pending entries above the committed offset are read again', () => {
  const offsets = new PartitionOffsets('5-0');
  offsets.pendingRead([]);
  offsets.committedTo('9-0');
  offsets.readPendingAgain();
  assert.equal(offsets.cursor, '9-0');
});

test('due skips what is committed and what the stream deleted, and keeps every id', () => {
  const offsets = new PartitionOffsets('2-0');
  const read = [...entries('1-0', '2-0', '3-0'), { id: '4-0', deleted: true }];
  const { ids, due } = offsets.due(read);
  assert.deepEqual(ids, ['1-0', '2-0', '3-0', '4-0']);
  assert.deepEqual(
    due.map((e) => e.id),
    ['3-0'],
  );
});

test('delivery counts at takeover are kept until acknowledged', () => {
  const offsets = new PartitionOffsets('0-0', new Map([['1-0', 3]]));
  assert.equal(offsets.deliveriesOf('1-0'), 3);
  assert.equal(offsets.deliveriesOf('2-0'), 0);
  offsets.acknowledged(['1-0']);
  assert.equal(offsets.deliveriesOf('1-0'), 0);
});

test('refreshing from the target takes an offset another owner committed, never a lower one', async () => {
  const a = new PartitionOffsets('5-0');
  const b = new PartitionOffsets('5-0');
  const sink = {
    readOffsets: async () =>
      new Map([
        ['todo/0', '8-0'],
        ['todo/1', '3-0'],
      ]),
  };
  await PartitionOffsets.refreshAll(sink, [
    ['todo/0', a],
    ['todo/1', b],
  ]);
  assert.equal(a.committed, '8-0');
  assert.equal(b.committed, '5-0');
});
