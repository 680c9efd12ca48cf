import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Long } from 'mongodb';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { parseExactJson } from '../../runtime/schema/exact-json.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { buildCaptureServer } from '../../services/capture/src/server.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

// Issue #17, item 4: `PUT /entities/user/9223372036854775807` was refused with "key must be an
// integer", and longs beyond ±2^52 everywhere. The whole int64 range now goes from the HTTP body
// to the cache, PostgreSQL `bigint` and MongoDB `Long` with every digit.

const P = 2;
const MAX = '9223372036854775807';
const MIN = '-9223372036854775808';
/** 2^53 + 1: the first integer a double cannot hold. */
const PAST_DOUBLE = '9007199254740993';
const RANGE = 'an integer from -9223372036854775808 to 9223372036854775807';

/** A ledger entry keyed by a 64-bit id, with long fields plain, optional and in an array. */
const LEDGER: AvroSchema = {
  type: 'record',
  name: 'Ledger',
  namespace: 'cdc.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'long' },
    { name: 'previous', type: ['null', 'long'], default: null },
    { name: 'parts', type: { type: 'array', items: 'long' }, default: [] },
    { name: 'note', type: 'string', default: '' },
  ],
};

/**
 * Only columns the PostgreSQL sink transcodes from the payload (no jsonb), so that its fast path
 * is the one taken; the ledger's array column sends it through decoded records.
 */
const ACCOUNT: AvroSchema = {
  type: 'record',
  name: 'Account',
  namespace: 'cdc.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'balance', type: 'long' },
    { name: 'previous', type: ['null', 'long'], default: null },
  ],
};

describe('full 64-bit longs from HTTP to the cache and both sinks', {
  timeout: 120_000,
}, () => {
  let redisCtx: TestRedis;
  let mongoCtx: TestMongo;
  let pgCtx: TestPostgres;
  let capture: Capture;
  let app: FastifyInstance;
  const runners: SinkRunner[] = [];

  /** A request with its body sent as written: big literals must not pass through JSON.stringify. */
  const send = (method: 'PUT' | 'PATCH' | 'DELETE' | 'GET' | 'POST', url: string, body?: string) =>
    app.inject({
      method,
      url,
      ...(body === undefined
        ? {}
        : { payload: body, headers: { 'content-type': 'application/json' } }),
    });

  const caughtUp = async () => {
    for (const entity of ['ledger', 'account'])
      for (const sink of ['postgres', 'mongo'])
        if (!(await sinkCaughtUp(redisCtx.redis, capture.keys, entity, P, sink))) return false;
    return true;
  };

  before(async () => {
    redisCtx = await createTestRedis('longs');
    mongoCtx = await createTestMongo('longs');
    pgCtx = await createTestPostgres('longs');
    capture = await createCapture({
      redis: testRedisOptions(),
      prefix: redisCtx.capturePrefix,
      entities: {
        ledger: { schema: LEDGER, partitions: P },
        account: { schema: ACCOUNT, partitions: P },
      },
    });
    app = buildCaptureServer(capture);
    await app.ready();
    runners.push(
      await startTestRunner(
        new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
        redisCtx.capturePrefix,
      ),
      await startTestRunner(new MongoSink({ url: mongoCtx.url }), redisCtx.capturePrefix),
    );
  });

  after(async () => {
    for (const runner of runners) await runner.stop().catch(() => undefined);
    await app?.close();
    await capture?.close();
    await redisCtx?.cleanup();
    await mongoCtx?.cleanup();
    await pgCtx?.cleanup();
  });

  test('the extreme keys and long fields are captured over HTTP and read back digit for digit', async () => {
    const writes: Array<[string, string]> = [
      [MAX, `{"amount": ${MIN}, "previous": ${PAST_DOUBLE}, "parts": [${MAX}, 1]}`],
      // Longs as strings of digits, for clients that cannot write big numbers.
      [MIN, `{"amount": "${MAX}", "previous": null, "parts": ["${MIN}"]}`],
      // The key in the body as well as in the path.
      [PAST_DOUBLE, `{"id": ${PAST_DOUBLE}, "amount": 42}`],
    ];
    for (const [key, body] of writes) {
      const res = await send('PUT', `/entities/ledger/${key}`, body);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().key, key);
    }

    const max = await send('GET', `/entities/ledger/${MAX}`);
    assert.equal(max.statusCode, 200, max.body);
    // Digits as JSON number literals, exactly as sent; small longs are the numbers they were.
    assert.match(
      max.body,
      new RegExp(
        `"record":\\{"id":${MAX},"amount":${MIN},"previous":${PAST_DOUBLE},"parts":\\[${MAX},1\\],"note":""\\}`,
      ),
    );
    const min = await send('GET', `/entities/ledger/${MIN}`);
    assert.deepEqual((parseExactJson(min.body) as { record: unknown }).record, {
      id: BigInt(MIN),
      amount: BigInt(MAX),
      previous: null,
      parts: [BigInt(MIN)],
      note: '',
    });
    const past = await send('GET', `/entities/ledger/${PAST_DOUBLE}`);
    assert.match(past.body, new RegExp(`"record":\\{"id":${PAST_DOUBLE},"amount":42,`));

    // A patch merges onto the cached record without losing a digit of it.
    const patched = await send('PATCH', `/entities/ledger/${MAX}`, '{"note": "patched"}');
    assert.equal(patched.statusCode, 200, patched.body);
    const cached = await capture.get('ledger', MAX);
    assert.deepEqual(cached?.record, {
      id: BigInt(MAX),
      amount: BigInt(MIN),
      previous: BigInt(PAST_DOUBLE),
      parts: [BigInt(MAX), 1],
      note: 'patched',
    });
  });

  test('a long out of range is refused with 400 naming the range', async () => {
    const key = await send('PUT', '/entities/ledger/9223372036854775808', '{"amount": 1}');
    assert.equal(key.statusCode, 400);
    assert.equal(key.json().issues[0].message, `key "9223372036854775808" must be ${RANGE}`);
    const negative = await send('DELETE', '/entities/ledger/-9223372036854775809');
    assert.equal(negative.statusCode, 400);
    assert.match(negative.json().issues[0].message, new RegExp(RANGE));

    const field = await send('PUT', '/entities/ledger/1', '{"amount": 9223372036854775808}');
    assert.equal(field.statusCode, 400);
    assert.deepEqual(field.json().issues, [
      { path: 'amount', message: `expected ${RANGE}, got 9223372036854775808` },
    ]);
    const nested = await send(
      'POST',
      '/entities/ledger/batch',
      `{"writes": [{"record": {"id": 2, "amount": 0, "parts": [-9223372036854775809]}}]}`,
    );
    assert.equal(nested.statusCode, 400);
    assert.deepEqual(nested.json().issues, [
      { path: '[0].parts.0', message: `expected ${RANGE}, got -9223372036854775809` },
    ]);
    assert.equal(await capture.get('ledger', '1'), undefined);
  });

  test('PostgreSQL holds the exact bigints and MongoDB the exact Longs', async () => {
    await send('PUT', `/entities/ledger/1234`, '{"amount": 5}');
    for (const [key, balance, previous] of [
      [MAX, MIN, PAST_DOUBLE],
      [MIN, MAX, 'null'],
      [PAST_DOUBLE, '-1', MAX],
    ]) {
      const body = `{"balance": ${balance}, "previous": ${previous}}`;
      const res = await send('PUT', `/entities/account/${key}`, body);
      assert.equal(res.statusCode, 200, res.body);
    }
    assert.equal((await send('DELETE', `/entities/ledger/${PAST_DOUBLE}`)).statusCode, 200);
    await waitFor('both sinks caught up', caughtUp, 60_000);

    const { rows } = await pgCtx.pool.query<Record<string, string | null>>(
      `SELECT id::text, amount::text, previous::text, parts::text, note
         FROM ${pg.escapeIdentifier(pgCtx.schema)}.ledger ORDER BY id`,
    );
    assert.deepEqual(rows, [
      { id: MIN, amount: MAX, previous: null, parts: `[${MIN}]`, note: '' },
      { id: '1234', amount: '5', previous: null, parts: '[]', note: '' },
      { id: MAX, amount: MIN, previous: PAST_DOUBLE, parts: `[${MAX}, 1]`, note: 'patched' },
    ]);
    const { rows: types } = await pgCtx.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'ledger' AND column_name IN ('id', 'amount', 'previous')
        ORDER BY column_name`,
      [pgCtx.schema],
    );
    assert.deepEqual(
      types.map((t) => t.data_type),
      ['bigint', 'bigint', 'bigint'],
    );

    const { rows: accounts } = await pgCtx.pool.query<Record<string, string | null>>(
      `SELECT id::text, balance::text, previous::text
         FROM ${pg.escapeIdentifier(pgCtx.schema)}.account ORDER BY id`,
    );
    assert.deepEqual(accounts, [
      { id: MIN, balance: MAX, previous: null },
      { id: PAST_DOUBLE, balance: '-1', previous: MAX },
      { id: MAX, balance: MIN, previous: PAST_DOUBLE },
    ]);
    const account = await mongoCtx.db
      .collection('account')
      .findOne({ _id: Long.fromString(PAST_DOUBLE) } as object);
    assert.equal(account?.balance, -1);
    assert.ok(account?.previous instanceof Long);
    assert.equal(String(account.previous), MAX);

    const ledger = mongoCtx.db.collection('ledger');
    const max = await ledger.findOne({ _id: Long.fromString(MAX) } as object);
    assert.ok(max, 'the document of the highest key');
    assert.ok(
      max._id instanceof Long && max.amount instanceof Long && max.previous instanceof Long,
    );
    assert.equal(String(max._id), MAX);
    assert.equal(String(max.amount), MIN);
    assert.equal(String(max.previous), PAST_DOUBLE);
    assert.deepEqual((max.parts as unknown[]).map(String), [MAX, '1']);
    const min = await ledger.findOne({ _id: Long.fromString(MIN) } as object);
    assert.equal(String(min?._id), MIN);
    assert.ok(min?.amount instanceof Long);
    assert.equal(String(min.amount), MAX);
    // Within the safe range, ids and values are the numbers they always were.
    const small = await ledger.findOne({ _id: 1234 } as object);
    assert.equal(small?.amount, 5);
    // The delete of a key past 2^53 found its document: it is a tombstone.
    const deleted = await ledger.findOne({ _id: Long.fromString(PAST_DOUBLE) } as object);
    assert.equal(deleted?._deleted, true);
  });
});
