import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seeded } from '../../bench/support/numbers.ts';
import { RedisReadError } from '../../runtime/errors/redis-read-error.ts';
import {
  RESP,
  type RespReply,
  replyError,
  tokenBytes,
  tokenKind,
  tokenText,
} from '../../runtime/resp/resp-reply.ts';
import { RespScanner } from '../../runtime/resp/resp-scanner.ts';
import { encodeCommand } from '../../runtime/resp/stream-read-connection.ts';
import { encodeResp, type Resp } from '../support/resp.ts';

/** What a reply's tokens say, as a value: bulk strings as Buffers, both nulls as null. */
type Decoded = Buffer | null | Decoded[] | { int: string } | { simple: string } | { error: string };

/** The value the tokens of a reply describe; fails unless they describe exactly one value. */
function decode(reply: RespReply): Decoded {
  let t = 0;
  const next = (): Decoded => {
    assert.ok(t < reply.count, `token ${t} is beyond the reply's ${reply.count} tokens`);
    const token = t++;
    switch (tokenKind(reply, token)) {
      case RESP.array: {
        const n = reply.tokens[token * 3 + 1]!;
        return Array.from({ length: n }, next);
      }
      case RESP.bulk:
        return Buffer.from(tokenBytes(reply, token));
      case RESP.null:
        return null;
      case RESP.integer:
        return { int: tokenText(reply, token) };
      case RESP.simple:
        return { simple: tokenText(reply, token) };
      case RESP.error:
        return { error: tokenText(reply, token) };
      default:
        assert.fail(`token ${token} has unknown kind ${tokenKind(reply, token)}`);
    }
  };
  const value = next();
  assert.equal(t, reply.count, 'the reply has tokens beyond its value');
  return value;
}

/** The value decode() gives for what encodeResp() wrote. */
function expected(value: Resp): Decoded {
  if (value === null) return null;
  if (typeof value === 'string') return Buffer.from(value);
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(expected);
  if ('int' in value) return { int: String(value.int) };
  if ('nullArray' in value) return null;
  return value as { simple: string } | { error: string };
}

/** A reply's tokens as plain numbers, for comparing two scans of the same bytes. */
const tokensOf = (reply: RespReply): number[] => [...reply.tokens.subarray(0, reply.count * 3)];

/** Scans bytes that hold exactly one reply, pushed whole. */
function scanOne(bytes: Buffer): RespReply {
  const replies = new RespScanner().push(bytes);
  assert.equal(replies.length, 1);
  return replies[0]!;
}

/** Pushes the chunks in order and returns every reply they complete. */
function pushAll(scanner: RespScanner, chunks: readonly Buffer[]): RespReply[] {
  return chunks.flatMap((chunk) => scanner.push(chunk));
}

const BINARY = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x24, 0x2a, 0x0d, 0x0a, 0x0d, 0x80, 0x0a]);

/** An XREADGROUP-like reply with every kind of element a stream read holds. */
const READ_REPLY: Resp = [
  [
    'cdc:todo:0',
    [
      ['1700000000000-0', ['op', 'u', 'data', BINARY, 'ts', '1700000000000']],
      ['1700000000000-1', { nullArray: true }],
      ['1700000000001-0', ['op', 'd', 'key', '\r\n', 'empty', '']],
    ],
  ],
  ['cdc:todo:1', []],
];

test('each RESP2 type scans to one token of its kind', () => {
  const simple = scanOne(encodeResp({ simple: 'OK' }));
  assert.deepEqual(
    [simple.count, tokenKind(simple, 0), tokenText(simple, 0)],
    [1, RESP.simple, 'OK'],
  );

  const error = scanOne(encodeResp({ error: 'NOGROUP No such key' }));
  assert.equal(tokenKind(error, 0), RESP.error);
  assert.equal(replyError(error), 'NOGROUP No such key');
  assert.equal(replyError(simple), undefined);

  const integer = scanOne(encodeResp({ int: -42 }));
  assert.deepEqual([tokenKind(integer, 0), tokenText(integer, 0)], [RESP.integer, '-42']);

  const bulk = scanOne(encodeResp('héllo'));
  assert.equal(tokenKind(bulk, 0), RESP.bulk);
  assert.equal(tokenText(bulk, 0), 'héllo');
  assert.deepEqual(tokenBytes(bulk, 0), Buffer.from('héllo'));

  const empty = scanOne(encodeResp(''));
  assert.deepEqual(
    [empty.count, tokenKind(empty, 0), tokenBytes(empty, 0).length],
    [1, RESP.bulk, 0],
  );

  for (const nothing of [encodeResp(null), encodeResp({ nullArray: true })]) {
    const reply = scanOne(nothing);
    assert.deepEqual([reply.count, tokenKind(reply, 0)], [1, RESP.null], String(nothing));
  }

  const emptyArray = scanOne(encodeResp([]));
  assert.deepEqual(tokensOf(emptyArray), [RESP.array, 0, 0]);
});

test('nested arrays, empty arrays, nulls, integers, statuses and errors inside arrays keep reply order', () => {
  const value: Resp = [
    [],
    [[], [[]], null],
    { nullArray: true },
    { int: 0 },
    { int: 9_007_199_254_740_991 },
    { simple: 'QUEUED' },
    { error: 'WRONGTYPE Operation against a key' },
    ['a', ['b', ['c', []]], 'd'],
    '',
  ];
  const reply = scanOne(encodeResp(value));
  assert.deepEqual(decode(reply), expected(value));
  // The first token is the outer array with its element count; its elements follow it.
  assert.deepEqual(tokensOf(reply).slice(0, 6), [RESP.array, 9, 0, RESP.array, 0, 0]);
});

test('binary bulk strings keep every byte, CR LF and RESP type bytes included', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const tricky = [
    BINARY,
    Buffer.from('\r\n'),
    Buffer.from('\r\n\r\n'),
    Buffer.from('$-1\r\n'),
    Buffer.from('*2\r\n:1\r\n'),
    Buffer.from('\r'),
    Buffer.from('\n'),
    all,
  ];
  const reply = scanOne(encodeResp(tricky));
  assert.deepEqual(decode(reply), tricky);
  // Views of the reply's bytes, not copies.
  assert.equal(tokenBytes(reply, 1).buffer, reply.data.buffer);
});

test('a reply split at every byte boundary scans to the same tokens as the whole reply', () => {
  const values: Resp[] = [
    READ_REPLY,
    { simple: 'OK' },
    { error: 'ERR unknown command' },
    { int: 123456 },
    null,
    { nullArray: true },
    [],
    BINARY,
    [[[]], null, { int: -1 }],
  ];
  for (const value of values) {
    const bytes = encodeResp(value);
    const whole = scanOne(bytes);
    assert.deepEqual(decode(whole), expected(value));
    for (let cut = 1; cut < bytes.length; cut++) {
      const scanner = new RespScanner();
      assert.deepEqual(scanner.push(bytes.subarray(0, cut)), [], `nothing complete before ${cut}`);
      assert.equal(scanner.partial, true);
      const replies = scanner.push(bytes.subarray(cut));
      assert.equal(replies.length, 1, `cut at ${cut}`);
      assert.deepEqual(tokensOf(replies[0]!), tokensOf(whole), `cut at ${cut}`);
      assert.deepEqual(decode(replies[0]!), expected(value), `cut at ${cut}`);
      assert.equal(scanner.partial, false);
    }
  }
});

test('a reply split at every pair of byte boundaries scans to the same tokens as the whole reply', () => {
  // Three chunks: the first is kept as it came, the second copied to a buffer of the scanner's
  // own, the third appended to that buffer.
  const bytes = encodeResp(READ_REPLY);
  const whole = tokensOf(scanOne(bytes));
  for (let first = 1; first < bytes.length - 1; first++) {
    for (let second = first + 1; second < bytes.length; second++) {
      const replies = pushAll(new RespScanner(), [
        bytes.subarray(0, first),
        bytes.subarray(first, second),
        bytes.subarray(second),
      ]);
      assert.equal(replies.length, 1, `cuts at ${first} and ${second}`);
      assert.deepEqual(tokensOf(replies[0]!), whole, `cuts at ${first} and ${second}`);
    }
  }
});

test('a reply fed one byte at a time scans to the same tokens as the whole reply', () => {
  const bytes = encodeResp(READ_REPLY);
  const scanner = new RespScanner();
  const replies: RespReply[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const done = scanner.push(bytes.subarray(i, i + 1));
    assert.equal(done.length, i === bytes.length - 1 ? 1 : 0, `byte ${i}`);
    replies.push(...done);
  }
  assert.deepEqual(tokensOf(replies[0]!), tokensOf(scanOne(bytes)));
  assert.deepEqual(decode(replies[0]!), expected(READ_REPLY));
});

test('several replies in one chunk come out in order, and bytes after a complete reply start the next', () => {
  const values: Resp[] = [{ simple: 'OK' }, READ_REPLY, { int: 7 }, null, ['x', BINARY]];
  const bytes = Buffer.concat(values.map(encodeResp));
  const scanner = new RespScanner();
  const replies = scanner.push(bytes);
  assert.deepEqual(replies.map(decode), values.map(expected));
  assert.equal(scanner.partial, false);
  // Each reply starts at offset 0 of its data, so tokens do not depend on what came before.
  assert.deepEqual(tokensOf(replies[1]!), tokensOf(scanOne(encodeResp(READ_REPLY))));

  // Complete replies and the start of the next one in the same chunk.
  const next: Resp = ['after', { int: 1 }];
  const tail = encodeResp(next);
  const more = new RespScanner();
  const first = more.push(Buffer.concat([bytes, tail.subarray(0, 5)]));
  assert.deepEqual(first.map(decode), values.map(expected));
  assert.equal(more.partial, true);
  assert.deepEqual(more.push(tail.subarray(5)).map(decode), [expected(next)]);
  assert.equal(more.partial, false);
});

test('a reply larger than the gathering buffer and with many tokens arrives whole', () => {
  const random = seeded(11);
  const value: Resp[] = Array.from({ length: 3_000 }, (_, i) =>
    i % 2 === 0
      ? Buffer.from(Array.from({ length: 100 }, () => Math.floor(random() * 256)))
      : [String(i), { int: i }],
  );
  const bytes = encodeResp(value);
  assert.ok(bytes.length > 128 * 1024);
  const replies = pushAll(
    new RespScanner(),
    Array.from({ length: Math.ceil(bytes.length / 1_000) }, (_, i) =>
      bytes.subarray(i * 1_000, (i + 1) * 1_000),
    ),
  );
  assert.equal(replies.length, 1);
  assert.deepEqual(decode(replies[0]!), expected(value));
});

test('replies already returned keep their bytes and tokens after more data is pushed', () => {
  const a: Resp = ['first', BINARY, 'x'.repeat(300)];
  const b: Resp = ['second', Buffer.alloc(400, 0xee)];
  const c: Resp = ['third', Buffer.alloc(500, 0x11)];
  const bytes = Buffer.concat([encodeResp(a), encodeResp(b), encodeResp(c)]);
  const aEnd = encodeResp(a).length;
  const bEnd = aEnd + encodeResp(b).length;
  // Cuts: A whole with the start of B; A across chunks, finished together with the start of B;
  // B finished together with the start of C; everything one byte at a time.
  const cuttings: number[][] = [
    [aEnd + 3, bEnd + 7],
    [10, aEnd - 4, aEnd + 20, bEnd - 1, bEnd + 30],
    [aEnd + 50, aEnd + 60, bEnd + 2],
    Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
  ];
  for (const cuts of cuttings) {
    const scanner = new RespScanner();
    const held: Array<{ reply: RespReply; views: Buffer[]; tokens: number[] }> = [];
    const bounds = [0, ...cuts, bytes.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      // A chunk of its own, as a socket delivers it, so the scanner cannot share its memory.
      const chunk = Buffer.from(bytes.subarray(bounds[i], bounds[i + 1]));
      for (const reply of scanner.push(chunk)) {
        const views = Array.from({ length: reply.count }, (_, t) => tokenBytes(reply, t));
        held.push({ reply, views, tokens: tokensOf(reply) });
      }
    }
    assert.equal(held.length, 3, `cuts ${cuts.slice(0, 5)}`);
    const values: Resp[] = [a, b, c];
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      const { reply, views, tokens } = held[i]!;
      assert.deepEqual(tokensOf(reply), tokens, `reply ${i}`);
      assert.deepEqual(decode(reply), expected(value), `reply ${i}`);
      // The views taken when the reply came still show its bytes.
      const items = (expected(value) as Buffer[]).map((item) => Buffer.from(item));
      assert.deepEqual(views.slice(1), items, `views of reply ${i}`);
    }
  }
});

test('replies stay intact when a long run of replies arrives in random chunks', () => {
  const random = seeded(42);
  const values: Resp[] = Array.from({ length: 300 }, (_, i) => {
    const payload = Buffer.from(
      Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)),
    );
    return i % 7 === 0 ? { simple: `S${i}` } : i % 11 === 0 ? null : [String(i), payload, []];
  });
  const bytes = Buffer.concat(values.map(encodeResp));
  const scanner = new RespScanner();
  const held: Array<{ reply: RespReply; views: Buffer[] }> = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(random() * 700);
    for (const reply of scanner.push(Buffer.from(bytes.subarray(at, at + size))))
      held.push({
        reply,
        views: Array.from({ length: reply.count }, (_, t) => tokenBytes(reply, t)),
      });
    at += size;
  }
  assert.equal(held.length, values.length);
  held.forEach(({ reply, views }, i) => {
    assert.deepEqual(decode(reply), expected(values[i]!), `reply ${i}`);
    const now = Array.from({ length: reply.count }, (_, t) => tokenBytes(reply, t));
    assert.deepEqual(views, now, `views of reply ${i}`);
  });
});

/** Pushes the bytes whole and one byte at a time; both must throw RedisReadError. */
function assertCorrupt(bytes: Buffer, label: string): void {
  assert.throws(() => new RespScanner().push(bytes), RedisReadError, `${label} (whole)`);
  const scanner = new RespScanner();
  assert.throws(
    () => {
      for (let i = 0; i < bytes.length; i++) scanner.push(bytes.subarray(i, i + 1));
    },
    RedisReadError,
    `${label} (byte by byte)`,
  );
}

test('a bulk string whose trailing CRLF is wrong is a RedisReadError', () => {
  const cases = [
    '$3\r\nabcd\r\n',
    '$3\r\nabc\n\r',
    '$3\r\nab\r\n\r\n',
    '$3\r\nabcXY',
    '$0\r\nx\r\n',
    '*2\r\n$1\r\na\r\n$2\r\nbcd\r\n',
  ];
  for (const text of cases) assertCorrupt(Buffer.from(text), JSON.stringify(text));
});

test('a type byte RESP2 does not have is a RedisReadError', () => {
  // `_`, `%`, `#` and `,` are RESP3 types: the connection speaks RESP2 only.
  const cases = ['?x\r\n', '_\r\n', '%1\r\n', '#t\r\n', ',1.5\r\n', 'OK\r\n', '*1\r\n!x\r\n'];
  for (const text of cases) assertCorrupt(Buffer.from(text), JSON.stringify(text));
  assertCorrupt(Buffer.from([0x00, 0x0d, 0x0a]), 'a zero byte');
});

test('a length that is not a decimal number is a RedisReadError', () => {
  const cases = ['$abc\r\n', '*1x\r\n', '$\r\n', '*\r\n', '$-\r\n', '$ 3\r\nabc\r\n', '*1.0\r\n'];
  for (const text of cases) assertCorrupt(Buffer.from(text), JSON.stringify(text));
  assertCorrupt(Buffer.from('*2\r\n$x\r\n'), 'inside an array');
});

test('a header line whose CR is not followed by LF is a RedisReadError', () => {
  for (const text of ['+OK\rX\n', '$3\r$abc\r\n', ':1\r\r\n'])
    assertCorrupt(Buffer.from(text), JSON.stringify(text));
});

test('a corrupt reply is reported as retriable: the read is repeated on a new connection', () => {
  try {
    new RespScanner().push(Buffer.from('?\r\n'));
    assert.fail('no error');
  } catch (error) {
    assert.ok(error instanceof RedisReadError);
    assert.equal(error.retriable, true);
    assert.equal(error.code, 'REDIS_READ_FAILED');
  }
});

test('encodeCommand writes an array of bulk strings that scans back to the arguments', () => {
  const args = ['XREADGROUP', 'GROUP', 'sink', 'consumer-ü', 'COUNT', 10, 'BLOCK', 0, '', 'a\r\nb'];
  const reply = scanOne(Buffer.from(encodeCommand(args)));
  assert.deepEqual(
    decode(reply),
    args.map((arg) => Buffer.from(String(arg))),
  );
  assert.equal(encodeCommand(['PING']), '*1\r\n$4\r\nPING\r\n');
  // The length counts bytes, not UTF-16 code units.
  assert.equal(encodeCommand(['é']), '*1\r\n$2\r\né\r\n');
});
