import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendChunks } from '../../services/sink-mongo/src/send-chunks.ts';

/**
 * What a bulk write does after it is called, as the driver does it: a few promise jobs and a
 * next-tick callback (server selection, connection checkout, serialization), then the command is
 * on the wire; the answer comes later, from I/O.
 */
function driverLike(onWire: () => void): Promise<void> {
  return Promise.resolve()
    .then(() => new Promise<void>((resolve) => process.nextTick(resolve)))
    .then(() => Promise.resolve())
    .then(onWire);
}

test('each chunk is started once the one before is on the wire, and all run at once', async () => {
  const events: string[] = [];
  let running = 0;
  let most = 0;
  // No chunk ends before all four are on the wire: the order below holds however slow the
  // machine, and all four run at once.
  let onWire = 0;
  let allOnWire: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    allOnWire = resolve;
  });
  await sendChunks([1, 2, 3, 4], async (chunk) => {
    events.push(`start ${chunk}`);
    running++;
    most = Math.max(most, running);
    await driverLike(() => {
      events.push(`wire ${chunk}`);
      if (++onWire === 4) allOnWire();
    });
    await released;
    running--;
    events.push(`done ${chunk}`);
  });
  assert.deepEqual(events.slice(0, 8), [
    'start 1',
    'wire 1',
    'start 2',
    'wire 2',
    'start 3',
    'wire 3',
    'start 4',
    'wire 4',
  ]);
  assert.equal(events.length, 12);
  assert.equal(most, 4);
});

test('a failed chunk fails the call only once every chunk has settled, with the first failure', async () => {
  const done: number[] = [];
  const first = new Error('chunk 1');
  const error = await sendChunks([1, 2, 3], async (chunk) => {
    // Chunk 1 fails before chunk 2 is even started: no unhandled rejection may come of it.
    if (chunk === 1) throw first;
    await sleep(chunk === 2 ? 30 : 10);
    done.push(chunk);
    if (chunk === 3) throw new Error('chunk 3');
  }).then(
    () => assert.fail('sendChunks should have failed'),
    (err: unknown) => err,
  );
  assert.equal(error, first);
  assert.deepEqual(done, [3, 2]);
});

test('no chunks, nothing sent; all succeeding, it resolves', async () => {
  let calls = 0;
  await sendChunks([], async () => {
    calls++;
  });
  assert.equal(calls, 0);
  await sendChunks(['a', 'b'], async () => {
    calls++;
  });
  assert.equal(calls, 2);
});
