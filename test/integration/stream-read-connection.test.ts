import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { decodeEnvelope, decodeEnvelopeTokens, encodeEnvelope } from '../../runtime/envelope.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { RedisReadError } from '../../runtime/errors/redis-read-error.ts';
import { RedisReplyError } from '../../runtime/errors/redis-reply-error.ts';
import { RESP, tokenKind, tokenText } from '../../runtime/resp/resp-reply.ts';
import {
  entryFields,
  type StreamEntries,
  streamEntries,
  streamEntriesAt,
} from '../../runtime/resp/stream-entries.ts';
import { StreamReadConnection } from '../../runtime/resp/stream-read-connection.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { oneServerOnly, testEnv } from '../helpers/env.ts';
import { uniqueNamespace } from '../helpers/namespace.ts';
import { createTestRedisServer } from '../helpers/redis.ts';
import { rejection } from '../support/rejection.ts';
import { waitFor } from '../support/wait-for.ts';

/** Generous: a command that should answer at once must not fail a slow machine. */
const TIMEOUT_MS = 5_000;

type Row = [stream: string, id: string, fields: Buffer[] | null];

/** Every entry the read connection returned, as [stream, id, fields or null]. */
function readerRows(read: StreamEntries[]): Row[] {
  return read.flatMap((s) => s.ids.map((id, i): Row => [s.stream, id, entryFields(s, i)]));
}

/** Every entry of an XREADGROUP reply read by ioredis as buffers, in the same form. */
function ioredisRows(reply: unknown): Row[] {
  const streams = (reply ?? []) as Array<[Buffer, Array<[Buffer, Buffer[] | null]>]>;
  return streams.flatMap(([stream, entries]) =>
    entries.map(([id, fields]): Row => [stream.toString(), id.toString(), fields]),
  );
}

/** What CLIENT LIST says about one connection. */
interface ClientInfo {
  id: string;
  db: string;
  /** The last (or current) command, e.g. `xreadgroup` while blocked in it. */
  cmd: string;
}

/** The server's view of the connection named `name`, if it is connected. */
async function clientNamed(redis: Redis, name: string): Promise<ClientInfo | undefined> {
  const list = (await redis.client('LIST')) as string;
  for (const line of list.split('\n')) {
    const fields = new Map(
      line
        .trim()
        .split(' ')
        .map((pair): [string, string] => {
          const at = pair.indexOf('=');
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
    );
    if (fields.get('name') === name)
      return { id: fields.get('id')!, db: fields.get('db')!, cmd: fields.get('cmd')! };
  }
  return undefined;
}

/** The connection's own id on the server: a new id means a new connection. */
async function clientId(reader: StreamReadConnection): Promise<string> {
  const reply = await reader.command(['CLIENT', 'ID'], TIMEOUT_MS);
  assert.equal(tokenKind(reply, 0), RESP.integer);
  return tokenText(reply, 0);
}

describe('stream read connection', {
  timeout: 60_000,
  // The connection of one server; on a cluster each partition's reader opens one like it to its
  // slot's master, which the cluster tests of the sinks exercise.
  skip: oneServerOnly('tests the read connection to one server'),
}, () => {
  test('XREADGROUP through the read connection gives exactly the entry bytes ioredis reads', async () => {
    const t = await createTestRedisServer('read_conn_bytes');
    const reader = StreamReadConnection.like(t.redis);
    try {
      const { redis, prefix } = t;
      const [first, second] = [`${prefix}stream:0`, `${prefix}stream:ü`];
      const group = 'sink';
      const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x24, 0x2d, 0x31, 0x0d, 0x0a, 0x00]);
      // Larger than a socket read, so the reply arrives in several chunks.
      const large = randomBytes(300_000);
      const events = [
        encodeEnvelope({
          op: 'upsert',
          entity: 'todo',
          key: 'a',
          schemaId: 1,
          payload: binary,
          capturedAt: 1700000000000,
          idempotencyKey: 'i-1',
          traceId: 't-1',
        }),
        encodeEnvelope({ op: 'delete', entity: 'todo', key: 'ключ', capturedAt: 1700000000001 }),
        encodeEnvelope({
          op: 'upsert',
          entity: 'todo',
          key: 'b',
          schemaId: 2,
          payload: large,
          capturedAt: 1700000000002,
        }),
      ];
      for (const fields of events) await redis.xadd(first, '*', ...fields);
      await redis.xadd(second, '*', 'raw', binary, 'empty', '', '\r\n', Buffer.from([0xff]));
      await redis.xadd(second, '*', 'n', '1');
      for (const stream of [first, second]) await redis.xgroup('CREATE', stream, group, '0');

      const fresh = streamEntries(
        await reader.command(
          ['XREADGROUP', 'GROUP', group, 'c1', 'COUNT', 100, 'STREAMS', first, second, '>', '>'],
          TIMEOUT_MS,
        ),
      );
      const stored: Row[] = [];
      for (const stream of [first, second])
        for (const [id, fields] of await redis.xrangeBuffer(stream, '-', '+'))
          stored.push([stream, id.toString(), fields]);
      assert.equal(stored.length, 5);
      assert.deepEqual(readerRows(fresh), stored);
      assert.deepEqual(
        fresh.map((s) => s.stream),
        [first, second],
      );

      // The envelopes decode from the reply's tokens as from ioredis's buffers.
      const s = fresh[0]!;
      const fromTokens = s.ids.map((id, i) =>
        decodeEnvelopeTokens(id, s.reply, s.fieldsAt[i]!, s.fieldItems[i]!),
      );
      assert.deepEqual(
        fromTokens,
        stored.slice(0, 3).map(([, id, fields]) => decodeEnvelope(id, fields!)),
      );
      assert.deepEqual(fromTokens[2]!.payload, large);

      // The consumer's pending entries, read again: the same bytes as ioredis's XREADGROUP.
      const pendingArgs = ['GROUP', group, 'c1', 'COUNT', 100, 'STREAMS', first, second, '0', '0'];
      const pending = streamEntries(
        await reader.command(['XREADGROUP', ...pendingArgs], TIMEOUT_MS),
      );
      assert.deepEqual(readerRows(pending), stored);
      assert.deepEqual(
        readerRows(pending),
        ioredisRows(await redis.callBuffer('XREADGROUP', ...pendingArgs)),
      );

      // An entry deleted after delivery stays pending, with null fields.
      const deleted = stored[1]![1];
      await redis.xdel(first, deleted);
      const afterDelete = streamEntries(
        await reader.command(['XREADGROUP', ...pendingArgs], TIMEOUT_MS),
      );
      const viaIoredis = ioredisRows(await redis.callBuffer('XREADGROUP', ...pendingArgs));
      assert.deepEqual(readerRows(afterDelete), viaIoredis);
      assert.deepEqual(viaIoredis[1], [first, deleted, null]);
      assert.equal(afterDelete[0]!.fieldsAt[1], -1);
      assert.equal(entryFields(afterDelete[0]!, 1), null);

      // Arguments are sent as UTF-8.
      const echo = await reader.command(['ECHO', 'ünï ✓ \r\n'], TIMEOUT_MS);
      assert.equal(tokenText(echo, 0), 'ünï ✓ \r\n');
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('a blocking read that times out on the server has no entries', async () => {
    const t = await createTestRedisServer('read_conn_block');
    const reader = StreamReadConnection.like(t.redis);
    try {
      const stream = `${t.prefix}stream`;
      await t.redis.xgroup('CREATE', stream, 'sink', '$', 'MKSTREAM');
      const started = Date.now();
      const reply = await reader.command(
        ['XREADGROUP', 'GROUP', 'sink', 'c1', 'COUNT', 10, 'BLOCK', 200, 'STREAMS', stream, '>'],
        TIMEOUT_MS,
      );
      assert.ok(Date.now() - started >= 150, 'the read blocked');
      assert.equal(tokenKind(reply, 0), RESP.null);
      assert.deepEqual(streamEntries(reply), []);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('an error reply rejects with RedisReplyError and the connection stays open', async () => {
    const t = await createTestRedisServer('read_conn_nogroup');
    const reader = StreamReadConnection.like(t.redis);
    try {
      const before = await clientId(reader);
      const error = await rejection(
        reader.command(
          ['XREADGROUP', 'GROUP', 'nogroup', 'c1', 'STREAMS', `${t.prefix}missing`, '>'],
          TIMEOUT_MS,
        ),
      );
      assert.ok(error instanceof RedisReplyError, String(error));
      assert.match(error.reply, /^NOGROUP /);
      assert.equal(error.retriable, false);
      assert.match(error.message, /XREADGROUP/);

      // The same connection answers the next command.
      assert.equal(await clientId(reader), before);
      const pong = await reader.command(['PING'], TIMEOUT_MS);
      assert.deepEqual([tokenKind(pong, 0), tokenText(pong, 0)], [RESP.simple, 'PONG']);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('a command with no reply within its timeout rejects with RedisReadError and the next command reconnects', async () => {
    const t = await createTestRedisServer('read_conn_timeout');
    const name = `${t.capturePrefix}_reader`;
    const reader = StreamReadConnection.like(t.redis, name);
    try {
      const stream = `${t.prefix}stream`;
      await t.redis.xgroup('CREATE', stream, 'sink', '$', 'MKSTREAM');
      const before = await clientId(reader);
      const started = Date.now();
      const error = await rejection(
        reader.command(
          ['XREADGROUP', 'GROUP', 'sink', 'c1', 'BLOCK', 2_000, 'STREAMS', stream, '>'],
          200,
        ),
      );
      assert.ok(error instanceof RedisReadError, String(error));
      assert.equal(error.retriable, true);
      assert.ok(Date.now() - started < 1_500, 'rejected at the timeout, not at the block end');

      const after = await clientId(reader);
      assert.notEqual(after, before);
      // The new connection logged in again; the abandoned one is gone.
      const client = await waitFor('one connection named after the reader', async () => {
        const c = await clientNamed(t.redis, name);
        return c?.id === after ? c : undefined;
      });
      assert.equal(client.id, after);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('a connection killed by the server rejects the read in flight, and the next command logs in again', async () => {
    const t = await createTestRedisServer('read_conn_kill');
    const name = `${t.capturePrefix}_reader`;
    const reader = StreamReadConnection.like(t.redis, name);
    try {
      const stream = `${t.prefix}stream`;
      await t.redis.xgroup('CREATE', stream, 'sink', '$', 'MKSTREAM');
      const inFlight = reader.command(
        ['XREADGROUP', 'GROUP', 'sink', 'c1', 'BLOCK', 20_000, 'STREAMS', stream, '>'],
        30_000,
      );
      const outcome = rejection(inFlight);
      const blocked = await waitFor('the reader blocked in XREADGROUP', async () => {
        const c = await clientNamed(t.redis, name);
        return c?.cmd === 'xreadgroup' ? c : undefined;
      });
      assert.equal(await t.redis.call('CLIENT', 'KILL', 'ID', blocked.id), 1);

      const error = await withDeadline(outcome, 5_000, 'the read in flight');
      assert.ok(error instanceof RedisReadError, String(error));
      assert.equal(error.retriable, true);

      // The next command opens a new connection, named again by the login.
      const nameReply = await reader.command(['CLIENT', 'GETNAME'], TIMEOUT_MS);
      assert.equal(tokenText(nameReply, 0), name);
      assert.notEqual(await clientId(reader), blocked.id);

      // And it reads.
      const id = await t.redis.xadd(stream, '*', 'k', Buffer.from([0, 1, 2]));
      const read = streamEntries(
        await reader.command(
          ['XREADGROUP', 'GROUP', 'sink', 'c1', 'BLOCK', 1_000, 'STREAMS', stream, '>'],
          TIMEOUT_MS,
        ),
      );
      assert.deepEqual(readerRows(read), [
        [stream, id, [Buffer.from('k'), Buffer.from([0, 1, 2])]],
      ]);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test("pipelineOn sends nothing once its session's connection was killed, and EXEC's XREADGROUP replies parse in place", async () => {
    const t = await createTestRedisServer('read_conn_session');
    const name = `${t.capturePrefix}_reader`;
    const reader = StreamReadConnection.like(t.redis, name);
    try {
      const [first, second] = [`${t.prefix}stream:0`, `${t.prefix}stream:1`];
      await t.redis.xgroup('CREATE', first, 'sink', '0', 'MKSTREAM');
      await t.redis.xgroup('CREATE', second, 'sink', '0', 'MKSTREAM');
      const id = await t.redis.xadd(first, '*', 'k', 'v');
      const read = (stream: string) => [
        'XREADGROUP',
        'GROUP',
        'sink',
        'c1',
        'COUNT',
        10,
        'STREAMS',
        stream,
        '>',
      ];

      const session = await reader.session();
      const killed = await clientId(reader);
      assert.equal(await t.redis.call('CLIENT', 'KILL', 'ID', killed), 1);
      await waitFor('the reader saw its connection close', async () =>
        (await reader.pipelineOn(session, [['PING']], TIMEOUT_MS)) === undefined ? true : undefined,
      );
      // Nothing went out: the group delivered nothing.
      assert.equal(
        await reader.pipelineOn(session, [['MULTI'], read(first), ['EXEC']], TIMEOUT_MS),
        undefined,
      );
      const [group] = (await t.redis.xinfo('GROUPS', first)) as unknown[][];
      assert.equal(group?.[group.indexOf('pending') + 1], 0);

      // A new session on a new connection: one EXEC reply holds both reads, one after the other.
      const next = await reader.session();
      assert.notEqual(next.id, session.id);
      assert.notEqual(await clientId(reader), killed);
      const settled = await reader.pipelineOn(
        next,
        [['MULTI'], read(first), read(second), ['EXEC']],
        TIMEOUT_MS,
      );
      const exec = settled?.[3];
      assert.equal(exec?.status, 'fulfilled');
      const reply = exec.status === 'fulfilled' ? exec.value : undefined;
      assert.ok(reply);
      const firstRead = streamEntriesAt(reply, 1);
      assert.deepEqual(readerRows(firstRead.streams), [
        [first, id, [Buffer.from('k'), Buffer.from('v')]],
      ]);
      const secondRead = streamEntriesAt(reply, firstRead.end);
      assert.deepEqual(secondRead.streams, []);
      assert.equal(secondRead.end, reply.count);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('an ACL user logs in with its username and password; a wrong password is a RedisReplyError', async () => {
    const t = await createTestRedisServer('read_conn_acl');
    const user = uniqueNamespace('read_acl');
    const url = testEnv.redisUrl;
    const asUser = new Redis(url, { lazyConnect: true, username: user, password: 'secret' });
    const wrongPassword = 'not-the-secret-7f3a';
    const wrong = new Redis(url, { lazyConnect: true, username: user, password: wrongPassword });
    const reader = StreamReadConnection.like(asUser);
    const refused = StreamReadConnection.like(wrong, `${t.capturePrefix}_refused`);
    try {
      await t.redis.call('ACL', 'SETUSER', user, 'on', '>secret', `~${t.prefix}*`, '+@all');
      await t.redis.set(`${t.prefix}key`, 'value');

      const whoami = await reader.command(['ACL', 'WHOAMI'], TIMEOUT_MS);
      assert.equal(tokenText(whoami, 0), user);
      const value = await reader.command(['GET', `${t.prefix}key`], TIMEOUT_MS);
      assert.equal(tokenText(value, 0), 'value');
      // The user's key pattern applies: this connection is not the default user's.
      const denied = await rejection(reader.command(['GET', 'elsewhere'], TIMEOUT_MS));
      assert.ok(denied instanceof RedisReplyError, String(denied));
      assert.match(denied.reply, /^NOPERM /);

      for (let attempt = 0; attempt < 2; attempt++) {
        // Each command logs in anew and is refused again: a failed login leaves no connection
        // that would run commands as the default user.
        const error = await rejection(refused.command(['ACL', 'WHOAMI'], TIMEOUT_MS));
        assert.ok(error instanceof RedisReplyError, `attempt ${attempt}: ${String(error)}`);
        assert.match(error.reply, /^WRONGPASS /);
        assert.ok(!error.message.includes(wrongPassword), 'the password is not in the message');
      }
      // The refused connection was dropped (the server sees it go a moment later).
      await waitFor(
        'the refused connection to close',
        async () => !(await clientNamed(t.redis, `${t.capturePrefix}_refused`)),
        5_000,
      );
    } finally {
      reader.close();
      refused.close();
      asUser.disconnect();
      wrong.disconnect();
      await t.redis.call('ACL', 'DELUSER', user).catch(() => undefined);
      await t.cleanup();
    }
  });

  test('a connection to db 1 sees the keys of db 1 only, also after it reconnects', async () => {
    const t = await createTestRedisServer('read_conn_db');
    const db1 = new Redis(testEnv.redisUrl, { lazyConnect: true, db: 1 });
    const name = `${t.capturePrefix}_db1`;
    const reader1 = StreamReadConnection.like(db1, name);
    const reader0 = StreamReadConnection.like(t.redis);
    const [shared, only1] = [`${t.prefix}shared`, `${t.prefix}only1`];
    try {
      await db1.connect();
      await db1.set(shared, 'one');
      await db1.set(only1, 'x');
      await t.redis.set(shared, 'zero');

      const get = async (reader: StreamReadConnection, key: string) => {
        const reply = await reader.command(['GET', key], TIMEOUT_MS);
        return tokenKind(reply, 0) === RESP.null ? null : tokenText(reply, 0);
      };
      assert.equal(await get(reader1, shared), 'one');
      assert.equal(await get(reader1, only1), 'x');
      assert.equal(await get(reader0, shared), 'zero');
      assert.equal(await get(reader0, only1), null);

      // A new connection selects the database again.
      const client = await clientNamed(t.redis, name);
      assert.ok(client, 'the reader is connected');
      assert.equal(client.db, '1');
      await t.redis.call('CLIENT', 'KILL', 'ID', client.id);
      await waitFor('the reader to reconnect', async () => {
        try {
          return (await get(reader1, shared)) === 'one';
        } catch (error) {
          // The first command after the kill may meet the dead socket: that is retriable.
          assert.ok(error instanceof RedisReadError, String(error));
          return false;
        }
      });
      assert.equal(await get(reader1, only1), 'x');
    } finally {
      reader1.close();
      reader0.close();
      await db1.del(shared, only1).catch(() => undefined);
      db1.disconnect();
      await t.cleanup();
    }
  });

  test('close() rejects the command in flight and every later command', async () => {
    const t = await createTestRedisServer('read_conn_close');
    const name = `${t.capturePrefix}_reader`;
    const reader = StreamReadConnection.like(t.redis, name);
    try {
      const stream = `${t.prefix}stream`;
      await t.redis.xgroup('CREATE', stream, 'sink', '$', 'MKSTREAM');
      const inFlight = rejection(
        reader.command(
          ['XREADGROUP', 'GROUP', 'sink', 'c1', 'BLOCK', 20_000, 'STREAMS', stream, '>'],
          30_000,
        ),
      );
      await waitFor('the reader blocked in XREADGROUP', async () => {
        const c = await clientNamed(t.redis, name);
        return c?.cmd === 'xreadgroup';
      });
      reader.close();
      const error = await withDeadline(inFlight, 2_000, 'the read in flight');
      assert.ok(error instanceof RedisReadError, String(error));

      const later = await rejection(reader.command(['PING'], TIMEOUT_MS));
      assert.ok(later instanceof RedisReadError, String(later));
      // The server sees the connection go.
      await waitFor('the connection to close', async () => !(await clientNamed(t.redis, name)));

      // Closed while it was still connecting: the command rejects and no connection is left.
      const early = StreamReadConnection.like(t.redis, `${name}_early`);
      const opening = rejection(early.command(['PING'], TIMEOUT_MS));
      early.close();
      const earlyError = await withDeadline(opening, 5_000, 'the command on a closing connection');
      assert.ok(earlyError instanceof RedisReadError, String(earlyError));
      await waitFor(
        'no connection left',
        async () => !(await clientNamed(t.redis, `${name}_early`)),
        5_000,
      );

      // Closed before it was ever used.
      const unused = StreamReadConnection.like(t.redis);
      unused.close();
      assert.ok((await rejection(unused.command(['PING'], TIMEOUT_MS))) instanceof RedisReadError);
    } finally {
      reader.close();
      await t.cleanup();
    }
  });

  test('a server that cannot be reached is a retriable RedisReadError', async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const reader = new StreamReadConnection({ host: '127.0.0.1', port, connectTimeoutMs: 2_000 });
    try {
      const error = await rejection(reader.command(['PING'], TIMEOUT_MS));
      assert.ok(error instanceof RedisReadError, String(error));
      assert.equal(error.retriable, true);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      reader.close();
    }
  });

  test('like() refuses ioredis options the read connection cannot honour', () => {
    const prefixed = new Redis(testEnv.redisUrl, { lazyConnect: true, keyPrefix: 'p:' });
    try {
      assert.throws(() => StreamReadConnection.like(prefixed), ConfigError);
    } finally {
      prefixed.disconnect();
    }
  });
});
