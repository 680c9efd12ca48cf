import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SinkEvent } from '../../runtime/sink/sink.ts';
import { latestPerKey } from '../../services/sink-mongo/src/latest-per-key.ts';

function event(id: string, key: string, op: SinkEvent['op'] = 'upsert'): SinkEvent {
  return {
    id,
    op,
    entity: 'todo',
    key,
    record: op === 'upsert' ? { id: key } : undefined,
    capturedAt: 0,
  };
}

test('the last event of each key is kept, keys in first-seen order', () => {
  const events = [
    event('1-0', 'a'),
    event('1-1', 'b'),
    event('2-0', 'a', 'delete'),
    event('3-0', 'c'),
    event('4-0', 'b'),
  ];
  assert.deepEqual(
    latestPerKey(events).map((e) => [e.key, e.id, e.op]),
    [
      ['a', '2-0', 'delete'],
      ['b', '4-0', 'upsert'],
      ['c', '3-0', 'upsert'],
    ],
  );
});

test('the highest stream id wins whatever the position, compared as numbers', () => {
  // "10-0" is newer than "9-0" although it sorts before it as text.
  const events = [event('10-0', 'a'), event('9-0', 'a', 'delete')];
  assert.deepEqual(
    latestPerKey(events).map((e) => e.id),
    ['10-0'],
  );
});

test('a custom key function merges keys that name one document', () => {
  const events = [event('1-0', '7'), event('2-0', '07', 'delete')];
  assert.deepEqual(latestPerKey(events).length, 2);
  const merged = latestPerKey(events, (e) => String(Number(e.key)));
  assert.deepEqual(
    merged.map((e) => [e.key, e.id]),
    [['07', '2-0']],
  );
});

test('no events give no writes', () => {
  assert.deepEqual(latestPerKey([]), []);
});
