import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent } from '../../runtime/envelope.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import { PartitionOffsets } from '../../runtime/sink/partition-offsets.ts';
import { planBatch } from '../../runtime/sink/runner/batch-planner.ts';
import type { DecodedEntry } from '../../runtime/sink/runner/entry-decoder.ts';
import type { SinkEvent } from '../../runtime/sink/sink.ts';
import type { SourceRead } from '../../runtime/sink/source/event-source.ts';

const ref = { entity: 'todo', partition: 2 };

/** A read of entries `id → key` (a key of '' has no key field; 'bad' cannot be decoded). */
function read(entries: Array<[id: string, key: string]>): SourceRead {
  return {
    ref,
    ids: entries.map(([id]) => id),
    deleted: () => false,
    envelope: (i) => ({ id: entries[i]![0], key: entries[i]![1] }) as ChangeEvent,
    fields: () => [],
    rawKey: (i) => entries[i]![1],
  };
}

function event(id: string, key: string): SinkEvent {
  return { id, key, op: 'upsert', entity: 'todo', record: {}, capturedAt: 0 };
}

/** Decoded entries: each decoded to its event, or failed where `failing` holds its id. */
function decoded(entries: Array<[string, string]>, failing: string[] = []): DecodedEntry[] {
  const from = read(entries);
  return entries.map(([id, key], index) => {
    const entry: DecodedEntry = { id, read: from, index, deleted: false };
    if (failing.includes(id)) entry.error = new EnvelopeError(`entry ${id} is malformed`);
    else entry.event = event(id, key);
    return entry;
  });
}

const none = new Set<string>();

test('a read with nothing to hold or dead-letter plans every event, in order, with the last id as offset', () => {
  const entries = decoded([
    ['1-0', 'a'],
    ['2-0', 'b'],
    ['3-0', 'a'],
  ]);
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets('0-0'),
    entries,
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.ok(plan);
  assert.deepEqual(plan.ids, ['1-0', '2-0', '3-0']);
  assert.deepEqual(
    plan.batch.events.map((e) => e.id),
    ['1-0', '2-0', '3-0'],
  );
  assert.deepEqual(plan.batch, { ...plan.batch, entity: 'todo', partition: 2, offset: '3-0' });
  assert.equal(plan.effects.length, 0);
});

test('entries at or below the committed offset are acknowledged but not applied again', () => {
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets('2-0'),
    entries: decoded([
      ['1-0', 'a'],
      ['2-0', 'b'],
      ['3-0', 'c'],
    ]),
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.deepEqual(plan?.ids, ['1-0', '2-0', '3-0']);
  assert.deepEqual(
    plan?.batch.events.map((e) => e.id),
    ['3-0'],
  );
});

test('a read entirely below the committed offset only moves the offset', () => {
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets('9-0'),
    entries: decoded([['1-0', 'a']]),
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.deepEqual(plan?.batch.events, []);
  assert.equal(plan?.batch.offset, '1-0');
});

test("an undecodable entry is dead-lettered and its key's later entries in the same read are held behind it", () => {
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets(),
    entries: decoded(
      [
        ['1-0', 'a'],
        ['2-0', 'b'],
        ['3-0', 'a'],
        ['4-0', 'c'],
      ],
      ['1-0'],
    ),
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.ok(plan);
  assert.deepEqual(
    plan.effects.map((e) => [e.kind, e.entry.id, e.key]),
    [
      ['dead-letter', '1-0', 'a'],
      ['hold', '3-0', 'a'],
    ],
  );
  assert.match(String((plan.effects[0] as { error: Error }).error), /malformed/);
  assert.deepEqual(
    plan.batch.events.map((e) => e.id),
    ['2-0', '4-0'],
  );
  assert.equal(plan.batch.offset, '4-0');
});

test('a key quarantined before the read has all its entries held; other keys flow', () => {
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets(),
    entries: decoded([
      ['1-0', 'a'],
      ['2-0', 'b'],
    ]),
    quarantined: new Set(['a']),
    maxDeliveries: 5,
  });
  assert.deepEqual(
    plan?.effects.map((e) => [e.kind, e.entry.id]),
    [['hold', '1-0']],
  );
  assert.deepEqual(
    plan?.batch.events.map((e) => e.key),
    ['b'],
  );
});

test('an entry delivered more often than allowed is dead-lettered, one at the limit is applied', () => {
  const offsets = new PartitionOffsets(
    '0-0',
    new Map([
      ['1-0', 6],
      ['2-0', 5],
    ]),
  );
  const { plan } = planBatch({
    ref,
    offsets,
    entries: decoded([
      ['1-0', 'a'],
      ['2-0', 'b'],
    ]),
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.deepEqual(
    plan?.effects.map((e) => [e.kind, e.entry.id]),
    [['dead-letter', '1-0']],
  );
  assert.match(String((plan!.effects[0] as { error: Error }).error), /delivered 6 times/);
  assert.deepEqual(
    plan?.batch.events.map((e) => e.id),
    ['2-0'],
  );
});

test('a failed entry without a key quarantines nothing', () => {
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets(),
    entries: decoded(
      [
        ['1-0', ''],
        ['2-0', ''],
      ],
      ['1-0'],
    ),
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.deepEqual(
    plan?.effects.map((e) => e.kind),
    ['dead-letter'],
  );
  assert.equal(plan?.batch.events.length, 1);
});

test('entries neither decoded nor failed are handed back to be decoded first', () => {
  const entries = decoded([
    ['1-0', 'a'],
    ['2-0', 'b'],
  ]);
  entries[1]!.event = undefined;
  const result = planBatch({
    ref,
    offsets: new PartitionOffsets(),
    entries,
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.equal(result.plan, undefined);
  assert.deepEqual(
    result.undecoded?.map((e) => e.id),
    ['2-0'],
  );
});

test('entries deleted from the stream since they were delivered are acknowledged, not applied', () => {
  const entries = decoded([
    ['1-0', 'a'],
    ['2-0', 'b'],
  ]).map((e, i) => (i === 0 ? { ...e, deleted: true, event: undefined } : e));
  const { plan } = planBatch({
    ref,
    offsets: new PartitionOffsets(),
    entries,
    quarantined: none,
    maxDeliveries: 5,
  });
  assert.deepEqual(plan?.ids, ['1-0', '2-0']);
  assert.deepEqual(
    plan?.batch.events.map((e) => e.id),
    ['2-0'],
  );
  assert.equal(plan?.effects.length, 0);
});
