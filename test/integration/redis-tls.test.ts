import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { redisFromEnv } from '../../runtime/config/env.ts';
import { RedisReadError } from '../../runtime/errors/redis-read-error.ts';
import { RedisReplyError } from '../../runtime/errors/redis-reply-error.ts';
import { connectRedis, type RedisConnectionOptions } from '../../runtime/redis-connection.ts';
import { tokenText } from '../../runtime/resp/resp-reply.ts';
import { entryFields, streamEntries } from '../../runtime/resp/stream-entries.ts';
import { StreamReadConnection } from '../../runtime/resp/stream-read-connection.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { testEnv } from '../helpers/env.ts';
import { uniqueNamespace } from '../helpers/namespace.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { expectedState } from '../support/expected-state.ts';
import { freePort } from '../support/free-port.ts';
import { readLog } from '../support/log-checker.ts';
import { rejection } from '../support/rejection.ts';
import { TEST_RUNNER_TIMINGS } from '../support/test-runner.ts';
import { makePki, type Pki } from '../support/tls-pki.ts';
import { waitFor } from '../support/wait-for.ts';

/** Generous: a command that should answer at once must not fail a slow machine. */
const TIMEOUT_MS = 5_000;
const P = 2;

/** A redis-server of our own that speaks TLS only (its plaintext port is 0, i.e. off). */
interface TlsRedis {
  readonly pki: Pki;
  readonly port: number;
  /** `rediss://127.0.0.1:<port>` */
  readonly url: string;
  /** How the project is configured to trust this server: the URL and the CA file. */
  readonly trusted: RedisConnectionOptions;
  /** An authorized connection for set-up and checks. */
  readonly admin: Redis;
  stop(): Promise<void>;
}

/** ioredis options for a connection that must fail: no reconnects, no queued retries. */
const FAIL_FAST = {
  lazyConnect: true,
  connectTimeout: 3_000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
} as const;

/** SIGTERM, then SIGKILL if the process has not gone within 5 s. */
async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  try {
    await withDeadline(exited, 5_000, 'redis-server to exit');
  } catch {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Spawns redis-server on a TLS port and waits until it accepts a trusted TLS connection. */
async function launchRedis(pki: Pki, dir: string): Promise<{ child: ChildProcess; port: number }> {
  // The free port may be taken by someone else before redis-server binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--bind',
        '127.0.0.1',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        pki.serverCertFile,
        '--tls-key-file',
        pki.serverKeyFile,
        '--tls-ca-cert-file',
        pki.caFile,
        '--tls-auth-clients',
        'optional',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A test process killed by its timeout must not leave the server behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new Error(`redis-server did not start: ${error}`)));
      child.once('exit', (code, signal) =>
        reject(new Error(`redis-server exited (${code ?? signal}) at start:\n${output}`)),
      );
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([
        exited,
        waitFor(
          'redis-server to accept TLS connections',
          async () => {
            const probe = connectRedis({
              url: `rediss://127.0.0.1:${port}`,
              tls: { caFile: pki.caFile },
              options: FAIL_FAST,
            });
            probe.on('error', () => undefined);
            try {
              await probe.connect();
              return (await probe.ping()) === 'PONG';
            } finally {
              probe.disconnect();
            }
          },
          15_000,
          100,
        ),
      ]);
      return { child, port };
    } catch (error) {
      await killProcess(child);
      if (attempt < 3 && /Address already in use/i.test(output)) continue;
      throw error;
    }
  }
}

async function startTlsRedis(): Promise<TlsRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'cdc-redis-tls-'));
  let child: ChildProcess | undefined;
  let admin: Redis | undefined;
  const stop = async () => {
    admin?.disconnect();
    if (child) await killProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await makePki(dir);
    const launched = await launchRedis(pki, dir);
    child = launched.child;
    const url = `rediss://127.0.0.1:${launched.port}`;
    const trusted: RedisConnectionOptions = { url, tls: { caFile: pki.caFile } };
    admin = connectRedis(trusted);
    await admin.ping();
    return { pki, port: launched.port, url, trusted, admin, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The `code` of an error's cause chain, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** The last (or current) command of every client connected to the server, e.g. `xreadgroup`. */
async function clientCommands(admin: Redis): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return [...list.matchAll(/ cmd=(\S+)/g)].map((m) => m[1]!);
}

describe('Redis over TLS (a redis-server of its own, TLS port only)', { timeout: 120_000 }, () => {
  // Started by the first test that needs it, so that a failure to start (no openssl, a
  // redis-server built without TLS) fails that test with its reason instead of a hook.
  let started: Promise<TlsRedis> | undefined;
  const server = () => {
    started ??= startTlsRedis();
    return started;
  };

  // Node warns once per process when a TLS server name is an IP address (RFC 6066 forbids it).
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    warnings.push(warning.code ?? warning.name);
  };
  process.on('warning', onWarning);

  after(async () => {
    process.off('warning', onWarning);
    const s = await started?.catch(() => undefined);
    await s?.stop();
  });

  test('the server speaks TLS only: its plaintext port is off', async () => {
    const s = await server();
    assert.deepEqual(await s.admin.config('GET', 'port'), ['port', '0']);
    assert.deepEqual(await s.admin.config('GET', 'tls-port'), ['tls-port', String(s.port)]);
  });

  test('a capture configured with rediss:// and a CA file writes upserts and deletes', async () => {
    const s = await server();
    const prefix = uniqueNamespace('tls_capture');
    const capture = await createCapture({
      redis: s.trusted,
      prefix,
      entities: { todo: { schema: schemaFile('todo'), partitions: P } },
    });
    try {
      for (let i = 0; i < 6; i++)
        await capture.upsert('todo', { id: `t${i}`, name: `todo ${i}`, done: i % 2 === 0 });
      await capture.upsert('todo', { id: 't1', name: 'renamed', done: true });
      const deleted = await capture.delete('todo', 't2');
      assert.equal(deleted.duplicate, false);

      const events = await readLog(s.admin, capture.keys, capture.registry, 'todo', P);
      assert.equal(events.length, 8);
      assert.deepEqual(
        events.filter((e) => e.op === 'delete').map((e) => e.key),
        ['t2'],
      );
      assert.equal((await capture.get('todo', 't1'))?.record.name, 'renamed');
      assert.equal(await capture.get('todo', 't2'), undefined);
      const state = await expectedState(s.admin, capture.keys, capture.registry, 'todo', P);
      assert.deepEqual([...state.keys()].sort(), ['t0', 't1', 't3', 't4', 't5']);
    } finally {
      await capture.close();
    }
  });

  test('a SinkRunner with a PostgresSink, configured with rediss:// and a CA file, applies the log to PostgreSQL', async () => {
    const s = await server();
    const pgCtx = await createTestPostgres('tls_sink');
    const prefix = uniqueNamespace('tls_sink');
    const consumer = `${prefix}_reader`;
    let capture: Capture | undefined;
    let runner: SinkRunner | undefined;
    try {
      capture = await createCapture({
        redis: s.trusted,
        prefix,
        entities: { todo: { schema: schemaFile('todo'), partitions: P } },
      });
      runner = new SinkRunner({
        sink: new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
        // Not the capture's connection: the runner opens its own from the same configuration.
        redis: { url: s.url, tls: { caFile: s.pki.caFile } },
        prefix,
        consumer,
        ...TEST_RUNNER_TIMINGS,
      });
      await runner.start();

      const expected = new Map<string, { name: string; done: boolean }>();
      for (let i = 0; i < 40; i++) {
        const record = { id: `t${i}`, name: `todo ${i}`, done: i % 3 === 0 };
        await capture.upsert('todo', record);
        expected.set(record.id, { name: record.name, done: record.done });
      }
      for (let i = 0; i < 10; i++) {
        await capture.delete('todo', `t${i}`);
        expected.delete(`t${i}`);
      }
      await capture.upsert('todo', { id: 't20', name: 'renamed', done: true });
      expected.set('t20', { name: 'renamed', done: true });

      const keys = capture.keys;
      await waitFor('todo applied by the sink', () =>
        sinkCaughtUp(s.admin, keys, 'todo', P, 'postgres'),
      );

      const { rows } = await pgCtx.pool.query<{ id: string; name: string; done: boolean }>(
        `SELECT id, name, done FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo ORDER BY id`,
      );
      const applied = new Map(rows.map((r) => [r.id, { name: r.name, done: r.done }]));
      assert.deepEqual(applied, expected);
      // The same final state as the log itself says.
      const fromLog = await expectedState(s.admin, keys, capture.registry, 'todo', P);
      assert.deepEqual(
        new Map([...fromLog].map(([k, r]) => [k, { name: r.name, done: r.done }])),
        expected,
      );

      // The stream reads ran on the server over TLS (it has no other port): the runner's read
      // connection is there, waiting for new entries in XREAD (only it sends that command).
      await waitFor('the read connection in XREAD', async () =>
        (await clientCommands(s.admin)).includes('xread'),
      );

      // A write-through returns once the sink applied it: the capture's pub/sub connection
      // (a duplicate of its TLS connection) hears the watermark.
      const through = await capture.upsert(
        'todo',
        { id: 'through', name: 'write-through', done: false },
        { mode: 'through', timeoutMs: 10_000 },
      );
      assert.deepEqual(through.appliedBy, ['postgres']);
      const { rows: after } = await pgCtx.pool.query(
        `SELECT name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo WHERE id = 'through'`,
      );
      assert.deepEqual(after, [{ name: 'write-through' }]);
    } finally {
      await runner?.stop().catch(() => undefined);
      await capture?.close();
      await pgCtx.cleanup();
    }
  });

  test('StreamReadConnection.like a TLS ioredis connection answers ECHO and XREADGROUP over TLS', async () => {
    const s = await server();
    const prefix = uniqueNamespace('tls_read');
    const stream = `${prefix}:stream`;
    const connections = [
      // The URL asks for TLS.
      connectRedis(s.trusted),
      // A TLS file turns TLS on even for a redis:// URL.
      connectRedis({ url: `redis://127.0.0.1:${s.port}`, tls: { caFile: s.pki.caFile } }),
      // The server certificate's DNS name is checked as well as its IP address.
      connectRedis({ url: `rediss://localhost:${s.port}`, tls: { caFile: s.pki.caFile } }),
      // The explicit opt-out of verification still encrypts.
      connectRedis({ url: s.url, tls: { rejectUnauthorized: false } }),
    ];
    const readers = connections.map((redis) => StreamReadConnection.like(redis));
    try {
      const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x24]);
      const id = await s.admin.xadd(stream, '*', 'k', binary);
      for (const [i, reader] of readers.entries()) {
        const echo = await reader.command(['ECHO', `over tls ✓ ${i}`], TIMEOUT_MS);
        assert.equal(tokenText(echo, 0), `over tls ✓ ${i}`);

        const group = `g${i}`;
        await s.admin.xgroup('CREATE', stream, group, '0');
        const read = streamEntries(
          await reader.command(
            ['XREADGROUP', 'GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', stream, '>'],
            TIMEOUT_MS,
          ),
        );
        assert.equal(read.length, 1);
        assert.deepEqual(read[0]!.ids, [id]);
        assert.deepEqual(entryFields(read[0]!, 0), [Buffer.from('k'), binary]);

        // And ioredis itself, on the same configuration.
        assert.equal(await connections[i]!.echo(`ioredis ${i}`), `ioredis ${i}`);
      }
      // No connection so far (the sink's included) sent an IP address as the TLS server name.
      assert.ok(!warnings.includes('DEP0123'), `warnings: ${warnings.join(', ')}`);
    } finally {
      for (const reader of readers) reader.close();
      for (const redis of connections) await redis.quit().catch(() => redis.disconnect());
      await s.admin.del(stream);
    }
  });

  test('a client that does not trust the CA is refused, with a TLS error and no plaintext fallback', async () => {
    const s = await server();
    // No CA file: Node's default CAs, which do not include ours; rejectUnauthorized is on.
    const untrusted = connectRedis({ url: s.url, options: FAIL_FAST });
    let ioredisError: Error | undefined;
    untrusted.on('error', (error: Error) => {
      ioredisError = error;
    });
    const reader = StreamReadConnection.like(untrusted);
    try {
      const error = await withDeadline(
        rejection(reader.command(['ECHO', 'x'], TIMEOUT_MS)),
        10_000,
        'the untrusted read',
      );
      assert.ok(error instanceof RedisReadError, String(error));
      assert.equal(error.retriable, true);
      const codes = causeCodes(error);
      assert.ok(
        codes.some((c) =>
          ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN'].includes(c),
        ),
        `a certificate verification error, got ${codes.join(', ')}: ${error.message}`,
      );

      // Again: the connection is opened anew and refused again, never "downgraded".
      const again = await rejection(reader.command(['ECHO', 'x'], TIMEOUT_MS));
      assert.ok(again instanceof RedisReadError, String(again));

      // ioredis on the same configuration is refused too.
      await assert.rejects(untrusted.connect());
      assert.ok(ioredisError, 'ioredis reported the TLS error');
      assert.match(ioredisError.message, /certificate/i);
    } finally {
      reader.close();
      untrusted.disconnect();
    }

    // What such a client sends first: a TLS ClientHello (record type 0x16), never a RESP command.
    const firstBytes: Buffer[] = [];
    const sockets = new Set<Socket>();
    const plain = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', (chunk: Buffer) => {
        firstBytes.push(chunk);
        // Answer as a plaintext Redis would: TLS must not take this as a server.
        socket.end('+PONG\r\n');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainPort = (plain.address() as AddressInfo).port;
    const toPlain = connectRedis({
      url: `rediss://127.0.0.1:${plainPort}`,
      tls: { caFile: s.pki.caFile },
      options: FAIL_FAST,
    });
    toPlain.on('error', () => undefined);
    const plainReader = StreamReadConnection.like(toPlain);
    try {
      const error = await withDeadline(
        rejection(plainReader.command(['PING'], TIMEOUT_MS)),
        10_000,
        'the read against a plaintext server',
      );
      assert.ok(error instanceof RedisReadError, String(error));
      await assert.rejects(toPlain.connect());
      assert.equal(firstBytes.length, 2, 'both clients connected');
      for (const bytes of firstBytes) {
        assert.equal(
          bytes[0],
          0x16,
          `a TLS handshake record, got ${JSON.stringify(String(bytes))}`,
        );
        assert.ok(!bytes.includes('PING'), 'no command in plaintext');
      }
    } finally {
      plainReader.close();
      toPlain.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  test('with tls-auth-clients yes, a client certificate from the CA is accepted; none, or one from another CA, is refused', async () => {
    const s = await server();
    const { caFile, client, rogueClient } = s.pki;
    const stream = `${uniqueNamespace('tls_mtls')}:stream`;
    const opened: Redis[] = [];
    const readers: StreamReadConnection[] = [];
    const open = (tls: RedisConnectionOptions['tls'], options = {}) => {
      const redis = connectRedis({ url: s.url, tls, options });
      redis.on('error', () => undefined);
      opened.push(redis);
      return redis;
    };
    const like = (redis: Redis) => {
      const reader = StreamReadConnection.like(redis);
      readers.push(reader);
      return reader;
    };
    await s.admin.config('SET', 'tls-auth-clients', 'yes');
    try {
      // New connections are held to the new setting; the admin connection was made before it.
      const withCert = open({ caFile, ...client });
      assert.equal(await withCert.echo('mutual'), 'mutual');
      const id = await withCert.xadd(stream, '*', 'k', 'v');
      await withCert.xgroup('CREATE', stream, 'g', '0');
      const reader = like(withCert);
      const read = streamEntries(
        await reader.command(
          ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', stream, '>'],
          TIMEOUT_MS,
        ),
      );
      assert.deepEqual(read[0]?.ids, [id]);

      for (const [label, tls] of [
        ['no client certificate', { caFile }],
        ['a client certificate from another CA', { caFile, ...rogueClient }],
      ] as const) {
        const refused = open(tls, FAIL_FAST);
        const error = await withDeadline(
          rejection(like(refused).command(['ECHO', 'x'], TIMEOUT_MS)),
          10_000,
          `the read with ${label}`,
        );
        assert.ok(error instanceof RedisReadError, `${label}: ${String(error)}`);
        await assert.rejects(
          (async () => {
            await refused.connect();
            await refused.echo('x');
          })(),
          `${label}: ioredis was let in`,
        );
      }
    } finally {
      await s.admin.config('SET', 'tls-auth-clients', 'optional');
      for (const reader of readers) reader.close();
      for (const redis of opened) redis.disconnect();
      await s.admin.del(stream);
    }
  });

  test('an ACL user logs in over TLS with username and password, through ioredis and StreamReadConnection', async () => {
    const s = await server();
    const user = uniqueNamespace('tls_acl');
    const password = `pw-${user}`;
    await s.admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all');
    const asUser = connectRedis({ ...s.trusted, username: user, password });
    const fromUrl = connectRedis({
      url: `rediss://${user}:${password}@127.0.0.1:${s.port}`,
      tls: { caFile: s.pki.caFile },
    });
    const wrong = connectRedis({ ...s.trusted, username: user, password: 'not-the-password' });
    wrong.on('error', () => undefined);
    // A service's environment configures the same.
    const fromEnv = connectRedis(
      redisFromEnv({
        REDIS_URL: s.url,
        REDIS_USERNAME: user,
        REDIS_PASSWORD: password,
        REDIS_TLS_CA: s.pki.caFile,
      }),
    );
    const users = [asUser, fromUrl, fromEnv];
    const readers = users.map((redis) => StreamReadConnection.like(redis));
    const refused = StreamReadConnection.like(wrong);
    try {
      for (const redis of users) assert.equal(await redis.call('ACL', 'WHOAMI'), user);
      for (const reader of readers) {
        const whoami = await reader.command(['ACL', 'WHOAMI'], TIMEOUT_MS);
        assert.equal(tokenText(whoami, 0), user);
      }
      const error = await rejection(refused.command(['ACL', 'WHOAMI'], TIMEOUT_MS));
      assert.ok(error instanceof RedisReplyError, String(error));
      assert.match(error.reply, /^WRONGPASS /);
    } finally {
      for (const reader of [...readers, refused]) reader.close();
      for (const redis of users) await redis.quit().catch(() => redis.disconnect());
      wrong.disconnect();
      await s.admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    }
  });

  // connectRedis documents `options` as "extra ioredis options, merged last", but when any TLS
  // file is set it replaces `options.tls` with the files alone: a certificate pin, a servername
  // or a minVersion given there is silently dropped.
  test('ioredis tls options given in `options` are kept next to the TLS files (a certificate pin is honoured)', async () => {
    const s = await server();
    let checked = 0;
    const pinned = connectRedis({
      ...s.trusted,
      options: {
        ...FAIL_FAST,
        tls: {
          // A pin that no certificate passes: the connection must be refused.
          checkServerIdentity: () => {
            checked++;
            return new Error('not the pinned certificate');
          },
        },
      },
    });
    pinned.on('error', () => undefined);
    const reader = StreamReadConnection.like(pinned);
    try {
      await assert.rejects(
        pinned.connect(),
        'the connection was let through: options.tls.checkServerIdentity was dropped',
      );
      assert.ok(checked > 0, 'the pin was consulted');
      const error = await rejection(reader.command(['ECHO', 'x'], TIMEOUT_MS));
      assert.ok(error instanceof RedisReadError, String(error));
    } finally {
      reader.close();
      pinned.disconnect();
    }
  });
});
