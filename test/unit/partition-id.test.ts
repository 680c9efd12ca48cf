import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePartitionId, partitionId } from '../../runtime/partition-id.ts';
import { offsetKey } from '../../runtime/sink/sink.ts';

test('a partition id reads back as its partition, and is what sinks key offsets by', () => {
  assert.equal(partitionId('todo', 3), 'todo/3');
  assert.equal(offsetKey('todo', 3), 'todo/3');
  assert.deepEqual(parsePartitionId('todo/3'), { entity: 'todo', partition: 3 });
  assert.deepEqual(parsePartitionId('order_line/12'), { entity: 'order_line', partition: 12 });
});

test('anything that is not a partition id is refused', () => {
  for (const bad of ['todo', '/3', 'todo/', 'todo/-1', 'todo/1.5', 'todo/03', 'todo/x'])
    assert.equal(parsePartitionId(bad), undefined, bad);
});
