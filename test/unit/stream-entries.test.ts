import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ChangeEventInput,
  decodeEnvelope,
  decodeEnvelopeTokens,
  encodeEnvelope,
} from '../../runtime/envelope.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import { RedisReadError } from '../../runtime/errors/redis-read-error.ts';
import type { RespReply } from '../../runtime/resp/resp-reply.ts';
import { RespScanner } from '../../runtime/resp/resp-scanner.ts';
import {
  entryFields,
  type StreamEntries,
  streamEntries,
} from '../../runtime/resp/stream-entries.ts';
import { encodeResp, type Resp } from '../support/resp.ts';

/** The reply Redis would send, as the read connection hands it over. */
function replyOf(value: Resp): RespReply {
  const replies = new RespScanner().push(encodeResp(value));
  assert.equal(replies.length, 1);
  return replies[0]!;
}

/** Fields of a deleted entry: Redis 7 sends them as a null array. */
const DELETED = { nullArray: true } as const;

type Entry = [id: string, fields: ReadonlyArray<string | Buffer> | typeof DELETED];

/** An XREADGROUP reply: [[stream, [[id, [name, value, …]], …]], …]. */
const readReply = (streams: Array<[name: string, entries: Entry[]]>): Resp => streams;

const asRead = (fields: ReadonlyArray<string | Buffer>): Buffer[] =>
  fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(f)));

/** Every entry of a read as [stream, id, fields or null]. */
function flatten(read: StreamEntries[]): Array<[string, string, Buffer[] | null]> {
  return read.flatMap((s) =>
    s.ids.map((id, i) => [s.stream, id, entryFields(s, i)] as [string, string, Buffer[] | null]),
  );
}

const BINARY = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x2a, 0x31, 0x0d, 0x0a, 0x00]);

test('entries of several streams come back per stream, in order, with their field bytes', () => {
  const reply = replyOf(
    readReply([
      [
        'cdc:todo:0',
        [
          ['1700000000000-0', ['op', 'u', 'data', BINARY]],
          ['1700000000000-1', ['op', 'd', 'empty', '']],
        ],
      ],
      ['cdc:todo:1', [['1700000000002-5', ['k', 'v']]]],
      ['cdc:ünï:2', []],
    ]),
  );
  const read = streamEntries(reply);
  assert.deepEqual(
    read.map((s) => [s.stream, s.ids, [...s.fieldItems]]),
    [
      ['cdc:todo:0', ['1700000000000-0', '1700000000000-1'], [4, 4]],
      ['cdc:todo:1', ['1700000000002-5'], [2]],
      ['cdc:ünï:2', [], []],
    ],
  );
  assert.deepEqual(flatten(read), [
    ['cdc:todo:0', '1700000000000-0', asRead(['op', 'u', 'data', BINARY])],
    ['cdc:todo:0', '1700000000000-1', asRead(['op', 'd', 'empty', ''])],
    ['cdc:todo:1', '1700000000002-5', asRead(['k', 'v'])],
  ]);
  for (const s of read) assert.equal(s.reply, reply);
  // fieldsAt is the token of the first field name: the bulk token whose bytes are "op".
  const first = read[0]!;
  assert.deepEqual(entryFields(first, 0)![0], Buffer.from('op'));
  assert.equal(
    first.reply.data.toString(
      'latin1',
      first.reply.tokens[first.fieldsAt[0]! * 3 + 1],
      first.reply.tokens[first.fieldsAt[0]! * 3 + 2],
    ),
    'op',
  );
  // Fields are views of the reply's bytes, not copies.
  assert.equal(entryFields(first, 0)![3]!.buffer, reply.data.buffer);
});

test('an entry deleted after delivery has fieldsAt -1 and no fields; its neighbours are intact', () => {
  const read = streamEntries(
    replyOf(
      readReply([
        [
          's',
          [
            ['1-0', ['a', '1']],
            ['2-0', DELETED],
            ['3-0', ['b', BINARY]],
          ],
        ],
      ]),
    ),
  );
  assert.equal(read.length, 1);
  const [s] = read as [StreamEntries];
  assert.deepEqual(s.ids, ['1-0', '2-0', '3-0']);
  assert.equal(s.fieldsAt[1], -1);
  assert.equal(entryFields(s, 1), null);
  assert.deepEqual(entryFields(s, 0), asRead(['a', '1']));
  assert.deepEqual(entryFields(s, 2), asRead(['b', BINARY]));

  // A deleted entry sent as a null bulk string is read the same way.
  const bulkNull = streamEntries(replyOf([['s', [['2-0', null]]]]));
  assert.deepEqual([bulkNull[0]!.ids, [...bulkNull[0]!.fieldsAt]], [['2-0'], [-1]]);
  assert.equal(entryFields(bulkNull[0]!, 0), null);
});

test('a blocking read that timed out (null reply) has no entries', () => {
  assert.deepEqual(streamEntries(replyOf(DELETED)), []);
  assert.deepEqual(streamEntries(replyOf(null)), []);
  assert.deepEqual(streamEntries(replyOf([])), []);
});

test('a stream whose entries are null has none', () => {
  const read = streamEntries(
    replyOf([
      ['a', DELETED],
      ['b', [['1-1', ['x', 'y']]]],
    ]),
  );
  assert.deepEqual(
    read.map((s) => [s.stream, s.ids]),
    [
      ['a', []],
      ['b', ['1-1']],
    ],
  );
  assert.deepEqual(entryFields(read[1]!, 0), asRead(['x', 'y']));
});

test('a reply that is not shaped like an XREADGROUP reply is a RedisReadError', () => {
  const bad: Array<[string, Resp]> = [
    ['an integer', { int: 1 }],
    ['a bulk string', 'OK'],
    ['a stream that is not an array', ['s']],
    ['a stream without entries', [['s']]],
    ['a stream triple', [['s', [], 'extra']]],
    ['a stream name that is an integer', [[{ int: 1 }, []]]],
    ['a stream name that is null', [[null, []]]],
    ['entries that are a bulk string', [['s', 'entries']]],
    ['an entry that is a bulk string', [['s', ['1-0']]]],
    ['an entry without fields', [['s', [['1-0']]]]],
    ['an entry triple', [['s', [['1-0', [], 'x']]]]],
    ['an entry id that is an integer', [['s', [[{ int: 1 }, ['a', 'b']]]]]],
    ['an entry id that is null', [['s', [[null, ['a', 'b']]]]]],
    ['fields that are a bulk string', [['s', [['1-0', 'a']]]]],
    ['a field that is an integer', [['s', [['1-0', ['a', { int: 1 }]]]]]],
    ['a field that is null', [['s', [['1-0', ['a', null]]]]]],
    ['a field that is an array', [['s', [['1-0', ['a', ['b']]]]]]],
    [
      'a bad entry after a good stream',
      [
        ['s', [['1-0', ['a', 'b']]]],
        ['t', [['2-0', 'x']]],
      ],
    ],
  ];
  for (const [what, value] of bad)
    assert.throws(() => streamEntries(replyOf(value)), RedisReadError, what);
});

test('a reply whose tokens end before its arrays do is a RedisReadError, not a read past the end', () => {
  const whole = replyOf(
    readReply([
      [
        's',
        [
          ['1-0', ['a', '1']],
          ['2-0', DELETED],
        ],
      ],
    ]),
  );
  for (let count = 1; count < whole.count; count++) {
    const cut: RespReply = {
      data: whole.data,
      tokens: whole.tokens.slice(0, count * 3),
      count,
    };
    assert.throws(() => streamEntries(cut), RedisReadError, `${count} of ${whole.count} tokens`);
  }
});

/** Decodes every entry of a read with decodeEnvelopeTokens. */
function decodeAll(read: StreamEntries[]) {
  return read.flatMap((s) =>
    s.ids.map((id, i) => decodeEnvelopeTokens(id, s.reply, s.fieldsAt[i]!, s.fieldItems[i]!)),
  );
}

/** A one-stream read of entries with these fields. */
function readOf(entries: Array<[id: string, fields: ReadonlyArray<string | Buffer>]>) {
  return streamEntries(replyOf(readReply([['cdc:todo:0', entries]])));
}

test('decodeEnvelopeTokens decodes envelopes exactly like decodeEnvelope', () => {
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const events: ChangeEventInput[] = [
    {
      op: 'upsert',
      entity: 'todo',
      key: 'a',
      schemaId: 3,
      payload: Buffer.concat([BINARY, Buffer.from('\r\n$-1\r\n'), every]),
      capturedAt: 1700000000000,
      idempotencyKey: 'idem-1',
      traceId: 'trace-1',
    },
    { op: 'delete', entity: 'todo', key: 'b', capturedAt: 5 },
    {
      op: 'upsert',
      entity: 'tode',
      key: 'c',
      schemaId: 1,
      payload: Buffer.from([0]),
      capturedAt: 0,
    },
    // The entity name cache must not confuse names of the same length, nor multi-byte text.
    {
      op: 'upsert',
      entity: 'todo',
      key: 'ключ',
      schemaId: 12,
      payload: Buffer.from([0xff]),
      capturedAt: 7,
    },
    {
      op: 'delete',
      entity: 'tödö',
      key: '\r\n',
      capturedAt: 9,
      idempotencyKey: 'ü',
      traceId: '00-ab-01',
    },
    { op: 'delete', entity: 'todo', key: 'd', capturedAt: 10, traceId: 't' },
  ];
  const entries = events.map((event, i): [string, Array<string | Buffer>] => [
    `1700000000000-${i}`,
    encodeEnvelope(event),
  ]);
  const read = readOf(entries);
  const decoded = decodeAll(read);
  assert.deepEqual(
    decoded,
    entries.map(([id, fields]) => decodeEnvelope(id, asRead(fields))),
  );
  assert.deepEqual(
    decoded,
    events.map((event, i) => ({ id: `1700000000000-${i}`, ...event })),
  );
  // The same as decoding the fields entryFields gives.
  assert.deepEqual(
    decoded,
    read[0]!.ids.map((id, i) => decodeEnvelope(id, entryFields(read[0]!, i)!)),
  );
  // The payload is a view of the reply's bytes.
  assert.equal(decoded[0]!.payload!.buffer, read[0]!.reply.data.buffer);
});

test('decodeEnvelopeTokens ignores unknown fields and keeps the last value of a repeated field', () => {
  const entries: Array<[string, string[] | Array<string | Buffer>]> = [
    [
      '3-0',
      [
        'op',
        'd',
        'extra',
        'x',
        'entity',
        'todo',
        'key',
        'k',
        'ts',
        '9',
        'ts',
        '12',
        'entities',
        'y',
      ],
    ],
    [
      '3-1',
      [
        'OP',
        'd',
        'op',
        'u',
        'dat',
        'no',
        'data',
        Buffer.from([1]),
        'entity',
        'todo',
        'key',
        'k',
        'ts',
        '1',
        'sid',
        '2',
        'datax',
        'no',
        'data',
        Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
        'idem',
        'first',
        'idem',
        '',
        'trace',
        't',
      ],
    ],
    // More than 15 digits: exact as long as the value is a safe integer.
    ['3-2', ['op', 'd', 'entity', 'todo', 'key', 'k', 'ts', '0000000000000001732540800123']],
    [
      '3-3',
      [
        'op',
        'u',
        'entity',
        'todo',
        'key',
        'k',
        'ts',
        '1',
        'sid',
        '00000000000000000042',
        'data',
        Buffer.alloc(0),
      ],
    ],
  ];
  const decoded = decodeAll(readOf(entries));
  assert.deepEqual(
    decoded,
    entries.map(([id, fields]) => decodeEnvelope(id, asRead(fields))),
  );
  assert.deepEqual(decoded[0], {
    id: '3-0',
    op: 'delete',
    entity: 'todo',
    key: 'k',
    capturedAt: 12,
  });
  assert.deepEqual(decoded[1], {
    id: '3-1',
    op: 'upsert',
    entity: 'todo',
    key: 'k',
    capturedAt: 1,
    schemaId: 2,
    payload: Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
    traceId: 't',
  });
  assert.equal(decoded[2]!.capturedAt, 1732540800123);
  assert.equal(decoded[3]!.schemaId, 42);
});

test('decodeEnvelopeTokens throws EnvelopeError, with the same message, where decodeEnvelope does', () => {
  const bad: Array<[string, string[]]> = [
    ['1-0', ['op', 'x', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'uu', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', '', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', '1']],
    ['1-0', ['op', 'd', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity', 'todo', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity', 'todo', 'key', 'a']],
    ['1-0', ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', 'soon']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', '0', 'data', '']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', 'x', 'data', '']],
    ['1-0', ['op', 'u', 'entity', 'todo', 'key', 'a', 'ts', '1', 'sid', '', 'data', '']],
    ['nope', ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', '1']],
    ['1-0', ['op', 'd', 'entity']],
    ...['-1', '1e3', ' 5', '0x10', '', '99999999999999999999', '1.5'].map(
      (ts): [string, string[]] => ['1-0', ['op', 'd', 'entity', 'todo', 'key', 'a', 'ts', ts]],
    ),
  ];
  for (const [id, fields] of bad) {
    const label = `${id} ${JSON.stringify(fields)}`;
    let expected: unknown;
    assert.throws(
      () => decodeEnvelope(id, asRead(fields)),
      (error) => {
        expected = error;
        return error instanceof EnvelopeError;
      },
      label,
    );
    // streamEntries does not count the items: an odd number reaches the decoder, which refuses it.
    const read = readOf([['1-0', fields]]);
    const s = read[0]!;
    assert.throws(
      () => decodeEnvelopeTokens(id, s.reply, s.fieldsAt[0]!, s.fieldItems[0]!),
      (error) => {
        assert.ok(error instanceof EnvelopeError, label);
        assert.equal(error.message, (expected as Error).message, label);
        return true;
      },
      label,
    );
  }
});
