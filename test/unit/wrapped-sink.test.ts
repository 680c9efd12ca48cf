import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionBatch, PreparedApply, Sink } from '../../runtime/sink/sink.ts';
import { WrappedSink } from '../../runtime/sink/wrapped-sink.ts';

/** An in-memory sink that records what is asked of it. */
function recordingSink(withPrepare: boolean): Sink & { calls: string[] } {
  const calls: string[] = [];
  const sink: Sink & { calls: string[] } = {
    calls,
    name: 'inner',
    readsPayloads: true,
    connect: async () => void calls.push('connect'),
    ensureTargets: async (targets) => void calls.push(`ensure ${targets.length}`),
    readOffsets: async () => new Map([['todo/0', '5-0']]),
    apply: async (batches) => void calls.push(`apply ${batches[0]!.offset}`),
    isTransient: (err) => err === 'transient',
    close: async () => void calls.push('close'),
  };
  if (withPrepare)
    sink.prepare = (batches): PreparedApply | undefined =>
      batches[0]!.offset === 'no'
        ? undefined
        : async () => void calls.push(`prepared ${batches[0]!.offset}`);
  return sink;
}

class Observed extends WrappedSink {
  readonly seen: string[] = [];
  protected async around(
    batches: readonly PartitionBatch[],
    apply: () => Promise<void>,
    prepared: boolean,
  ): Promise<void> {
    this.seen.push(`${prepared ? 'prepared' : 'plain'} ${batches[0]!.offset}`);
    await apply();
  }
}

const batch = (offset: string): PartitionBatch[] => [
  { entity: 'todo', partition: 0, events: [], offset },
];

test('everything but applies passes through to the inner sink', async () => {
  const inner = recordingSink(false);
  const sink = new Observed(inner);
  assert.equal(sink.name, 'inner');
  assert.equal(sink.readsPayloads, true);
  await sink.connect();
  await sink.ensureTargets([]);
  await sink.close();
  assert.deepEqual([...(await sink.readOffsets())], [['todo/0', '5-0']]);
  assert.equal(sink.isTransient('transient'), true);
  assert.equal(sink.isTransient('other'), false);
  assert.deepEqual(inner.calls, ['connect', 'ensure 0', 'close']);
});

test('prepare is offered only when the inner sink offers it', () => {
  assert.equal(new Observed(recordingSink(false)).prepare, undefined);
  assert.equal(typeof new Observed(recordingSink(true)).prepare, 'function');
});

test('plain and prepared applies both run through around, each marked as what it is', async () => {
  const inner = recordingSink(true);
  const sink = new Observed(inner);
  await sink.apply(batch('1-0'));
  const prepared = sink.prepare!(batch('2-0'));
  assert.ok(prepared);
  // Preparing is not applying: nothing ran yet.
  assert.deepEqual(sink.seen, ['plain 1-0']);
  await prepared();
  assert.equal(sink.prepare!(batch('no')), undefined);
  assert.deepEqual(sink.seen, ['plain 1-0', 'prepared 2-0']);
  assert.deepEqual(inner.calls, ['apply 1-0', 'prepared 2-0']);
});
