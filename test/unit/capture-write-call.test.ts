import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureWriteCall, captureWriteReplies } from '../../runtime/capture/capture-write-call.ts';
import type { PreparedWrite } from '../../runtime/capture/prepared-write.ts';
import { CaptureWriteCode } from '../../runtime/commands/index.ts';
import { Keys } from '../../runtime/keys.ts';

const keys = new Keys('t');
const WINDOW = 60_000;

function upsert(key: string, idempotencyKey?: string): PreparedWrite {
  return {
    entity: 'todo',
    schemaId: 3,
    op: 'upsert',
    key,
    partition: 1,
    record: { id: key },
    payload: Buffer.from([2, 97]),
    idempotencyKey,
    expectedVersion: '',
  };
}

function remove(key: string): PreparedWrite {
  return {
    entity: 'todo',
    schemaId: 3,
    op: 'delete',
    key,
    partition: 1,
    record: undefined,
    payload: undefined,
    idempotencyKey: undefined,
    expectedVersion: '',
  };
}

/** The script's view of a call: header, names, and per write its own arguments and values. */
function parse(args: ReadonlyArray<string | number | Buffer>) {
  const [n, window, m, sidAt] = args.slice(0, 4).map(Number) as [number, number, number, number];
  const names = args.slice(4, 4 + m);
  const writes = [];
  for (let w = 0, pos = 4 + m; w < n; w++, pos += 4 + m) {
    const [op, json, expected, idem] = args.slice(pos, pos + 4);
    writes.push({ op, json, expected, idem, values: args.slice(pos + 4, pos + 4 + m) });
  }
  return { n, window, sidAt, names, writes, length: 4 + m + n * (4 + m) };
}

test('a single write is a call of one that names only the fields its event has', () => {
  const write = { ...upsert('a1'), expectedVersion: '5-0' };
  const call = captureWriteCall(keys, [write], WINDOW, undefined);
  assert.deepEqual(call.keys, [keys.stream('todo', 1), keys.cache('todo', 1, 'a1')]);
  const parsed = parse(call.args);
  assert.equal(parsed.length, call.args.length);
  assert.deepEqual([parsed.n, parsed.window], [1, WINDOW]);
  assert.deepEqual(parsed.names, ['op', 'entity', 'key', 'ts', 'sid', 'data']);
  assert.equal(parsed.names[parsed.sidAt - 1], 'sid');
  const [own] = parsed.writes;
  assert.deepEqual([own?.op, own?.json, own?.expected, own?.idem], ['u', '{"id":"a1"}', '5-0', '']);
  assert.deepEqual(own?.values.slice(0, 3), ['u', 'todo', 'a1']);
  assert.equal(own?.values[4], '3');
  assert.deepEqual(own?.values[5], Buffer.from([2, 97]));
});

test('a batch names the fields any of its writes has and sends "" where a write lacks one', () => {
  const writes = [upsert('a1', 'req-1'), remove('a2'), upsert('a3')];
  const call = captureWriteCall(keys, writes, WINDOW, 'trace-9');
  assert.deepEqual(call.keys, [
    keys.stream('todo', 1),
    keys.cache('todo', 1, 'a1'),
    keys.idempotency('todo', 1, 'a1', 'req-1'),
    keys.cache('todo', 1, 'a2'),
    keys.cache('todo', 1, 'a3'),
  ]);
  const parsed = parse(call.args);
  assert.equal(parsed.length, call.args.length);
  assert.deepEqual(parsed.names, ['op', 'entity', 'key', 'ts', 'sid', 'data', 'idem', 'trace']);
  const byName = parsed.writes.map((w) =>
    Object.fromEntries(parsed.names.map((name, i) => [name, w.values[i]])),
  );
  assert.deepEqual(
    byName.map((v) => [v.op, v.key, v.sid, v.idem, v.trace]),
    [
      ['u', 'a1', '3', 'req-1', 'trace-9'],
      ['d', 'a2', '', '', 'trace-9'],
      ['u', 'a3', '3', '', 'trace-9'],
    ],
  );
  assert.deepEqual(
    parsed.writes.map((w) => [w.op, w.idem]),
    [
      ['u', 'req-1'],
      ['d', ''],
      ['u', ''],
    ],
  );
});

test('a call of deletes only names no schema id', () => {
  const parsed = parse(captureWriteCall(keys, [remove('a1')], WINDOW, undefined).args);
  assert.deepEqual(parsed.names, ['op', 'entity', 'key', 'ts']);
  assert.equal(parsed.sidAt, 0);
});

test('replies are read per write; a code the script never answers is a bug', () => {
  assert.deepEqual(captureWriteReplies(['1-1', 1, '0-5', 0, '', -1], 3), [
    { code: CaptureWriteCode.Written, id: '1-1' },
    { code: CaptureWriteCode.Duplicate, id: '0-5' },
    { code: CaptureWriteCode.VersionMismatch, id: '' },
  ]);
  assert.throws(() => captureWriteReplies(['1-1', 7], 1), TypeError);
  assert.throws(() => captureWriteReplies(['1-1', 1], 2), TypeError);
});
