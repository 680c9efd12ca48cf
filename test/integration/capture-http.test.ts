import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import type { ErrorBody } from '../../services/capture/src/http-errors.ts';
import {
  buildCaptureServer,
  type CaptureServerOptions,
} from '../../services/capture/src/server.ts';
import { connectCuttableTestRedis, createTestRedisClient } from '../helpers/redis.ts';
import { createTestCapture, keysUnder, schemaFile } from '../support/capture-fixtures.ts';
import { serveCapture } from '../support/capture-server-fixture.ts';
import { readLog } from '../support/log-checker.ts';

const P = 4;

/** The JSON answer of a write. */
interface WriteAnswer {
  entity: string;
  key: string;
  id: string;
  partition: number;
  duplicate: boolean;
  mode: string;
}

/** The JSON answer of GET /entities/:entity/:key. */
interface ValueAnswer {
  record: Record<string, unknown>;
  version: string;
  schemaId: number;
}

/** One capture HTTP service on its own key prefix. */
interface Service {
  app: FastifyInstance;
  capture: Capture;
  /** A separate connection to inspect Redis with. */
  redis: RedisClient;
  prefix: string;
  /** Every key under the prefix with its content (streams: length and last id). */
  state(): Promise<Record<string, unknown>>;
  /** The events of the todo entity, decoded. */
  events(key?: string): ReturnType<typeof readLog>;
}

/**
 * Starts a capture and its HTTP server on a fresh key prefix; everything is closed and the keys
 * are deleted when the test ends.
 */
async function serve(t: TestContext, options: CaptureServerOptions = {}): Promise<Service> {
  const served = await serveCapture(
    t,
    'capture_http',
    (prefix) => createTestCapture(prefix, ['todo'], P),
    () => options,
  );
  const { capture: owned, redis, prefix } = served;
  return {
    ...served,
    state: () => stateUnder(redis, prefix),
    events: async (key) =>
      (await readLog(redis, owned.keys, owned.registry, 'todo', P)).filter(
        (e) => key === undefined || e.key === key,
      ),
  };
}

async function stateUnder(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    if (type === 'stream') {
      const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      state[key] = { length: await redis.xlen(key), last: last?.[0] };
    } else if (type === 'hash') {
      state[key] = await redis.hgetall(key);
    } else if (type === 'string') {
      state[key] = await redis.get(key);
    } else if (type === 'list') {
      state[key] = await redis.lrange(key, 0, -1);
    } else {
      state[key] = type;
    }
  }
  return state;
}

/** Sends one request and asserts its status; returns the parsed JSON answer. */
async function call<T = ErrorBody>(
  service: Service,
  options: InjectOptions,
  status: number,
): Promise<T> {
  const res = await service.app.inject(options);
  assert.equal(res.statusCode, status, `${options.method} ${options.url}: ${res.body}`);
  return res.json<T>();
}

/** PUTs a todo and expects it to be written. */
function put(service: Service, key: string, payload: object, headers: Record<string, string> = {}) {
  return call<WriteAnswer>(
    service,
    { method: 'PUT', url: `/entities/todo/${key}`, payload, headers },
    200,
  );
}

/** PUTs a todo and expects it to be refused with `status`. */
function putRefused(
  service: Service,
  key: string,
  payload: object,
  status: number,
  headers: Record<string, string> = {},
) {
  return call(service, { method: 'PUT', url: `/entities/todo/${key}`, payload, headers }, status);
}

/** Sum of the samples of a Prometheus metric whose labels include `labels`. */
function metricValue(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
        (m) => [m[1]!, m[2]!] as const,
      ),
    );
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) sum += Number(match[3]);
  }
  return sum;
}

describe('capture HTTP service against real Redis', () => {
  describe('reads and writes', () => {
    test('PUT then GET returns the record with the event id of the write as its version', async (t) => {
      const s = await serve(t);
      const written = await put(s, 't1', { id: 't1', name: 'buy milk', done: true });
      assert.equal(written.entity, 'todo');
      assert.equal(written.key, 't1');
      assert.equal(written.duplicate, false);
      assert.equal(written.mode, 'behind');
      const got = await call<ValueAnswer>(s, { method: 'GET', url: '/entities/todo/t1' }, 200);
      assert.equal(got.version, written.id);
      assert.equal(got.schemaId, s.capture.schemaOf('todo').id);
      assert.deepEqual(got.record, {
        id: 't1',
        name: 'buy milk',
        description: null,
        done: true,
        created_at: null,
        updated_at: null,
      });
      const events = await s.events('t1');
      assert.deepEqual(
        events.map((e) => [e.op, e.id]),
        [['upsert', written.id]],
      );
      assert.deepEqual(events[0]?.record, got.record);
    });

    test('PATCH changes only the given fields; a missing key is 404, a bad field 400', async (t) => {
      const s = await serve(t);
      await put(s, 'pt', { id: 'pt', name: 'before', description: 'kept' });
      const patched = await call<WriteAnswer>(
        s,
        { method: 'PATCH', url: '/entities/todo/pt', payload: { name: 'after' } },
        200,
      );
      const got = await call<ValueAnswer>(s, { method: 'GET', url: '/entities/todo/pt' }, 200);
      assert.equal(got.version, patched.id);
      assert.equal(got.record.name, 'after');
      assert.equal(got.record.description, 'kept');
      const missing = await call(
        s,
        { method: 'PATCH', url: '/entities/todo/nobody', payload: { name: 'x' } },
        404,
      );
      assert.equal(missing.error, 'NOT_FOUND');
      assert.match(missing.message, /"nobody" not found/);
      const bad = await call(
        s,
        { method: 'PATCH', url: '/entities/todo/pt', payload: { done: 'yes' } },
        400,
      );
      assert.equal(bad.issues?.[0]?.path, 'done');
      assert.equal((await s.events('pt')).length, 2);
    });

    test('PUT without an id in the body takes the key from the URL', async (t) => {
      const s = await serve(t);
      const written = await put(s, 'from-url', { name: 'n' });
      assert.equal(written.key, 'from-url');
      const got = await call<ValueAnswer>(
        s,
        { method: 'GET', url: '/entities/todo/from-url' },
        200,
      );
      assert.equal(got.record.id, 'from-url');
      assert.equal(got.version, written.id);
    });

    test('PUT with a body id that differs from the URL key is a 400 naming the id field and writes nothing', async (t) => {
      const s = await serve(t);
      await put(s, 'k1', { name: 'first' });
      const before = await s.state();
      const body = await putRefused(s, 'k1', { id: 'k2', name: 'moved' }, 400);
      assert.equal(body.error, 'VALIDATION_FAILED');
      assert.deepEqual(
        body.issues?.map((i) => i.path),
        ['id'],
      );
      assert.match(body.issues?.[0]?.message ?? '', /"k2".*"k1"/);
      assert.deepEqual(await s.state(), before);
    });

    test('a DELETE sent with content-type: application/json and no body is accepted; an empty PUT is still refused with its reason', async (t) => {
      const s = await serve(t);
      const written = await put(s, 'j1', { name: 'json header everywhere' });
      const json = { 'content-type': 'application/json' };
      const deleted = await call<WriteAnswer>(
        s,
        { method: 'DELETE', url: '/entities/todo/j1', headers: json },
        200,
      );
      assert.ok(compareStreamIds(deleted.id, written.id) > 0);
      assert.deepEqual(
        (await s.events('j1')).map((e) => e.op),
        ['upsert', 'delete'],
      );
      const empty = await call(s, { method: 'PUT', url: '/entities/todo/j2', headers: json }, 400);
      assert.equal(empty.error, 'VALIDATION_FAILED');
      assert.doesNotMatch(String(empty.message), /FST_ERR/);
      const broken = await call(
        s,
        { method: 'PUT', url: '/entities/todo/j2', headers: json, payload: '{"name": ' },
        400,
      );
      assert.match(String(broken.message), /JSON/);
      assert.deepEqual(await s.events('j2'), []);
    });

    test('DELETE then GET is 404 with a message naming the entity and key', async (t) => {
      const s = await serve(t);
      const written = await put(s, 'd1', { name: 'doomed' });
      const deleted = await call<WriteAnswer>(
        s,
        { method: 'DELETE', url: '/entities/todo/d1' },
        200,
      );
      assert.equal(deleted.key, 'd1');
      assert.ok(compareStreamIds(deleted.id, written.id) > 0);
      const body = await call(s, { method: 'GET', url: '/entities/todo/d1' }, 404);
      assert.equal(body.error, 'NOT_FOUND');
      assert.equal(body.message, 'todo "d1" not found');
      assert.deepEqual(
        (await s.events('d1')).map((e) => [e.op, e.id]),
        [
          ['upsert', written.id],
          ['delete', deleted.id],
        ],
      );
    });

    test('GET /schemas/todo lists every registered version, oldest first', async (t) => {
      const s = await serve(t);
      const first = await call<{ versions: Array<Record<string, unknown>> }>(
        s,
        { method: 'GET', url: '/schemas/todo' },
        200,
      );
      assert.equal(first.versions.length, 1);
      const v1 = s.capture.schemaOf('todo');
      assert.deepEqual(first.versions[0], {
        id: v1.id,
        version: 1,
        fingerprint: v1.fingerprint,
        schema: JSON.parse(v1.schema),
      });
      assert.equal(
        (first.versions[0]?.schema as { name?: string } | undefined)?.name,
        'cdc.entities.Todo',
      );

      const todo = schemaFile('todo') as { fields: unknown[] };
      const evolved = {
        ...todo,
        fields: [...todo.fields, { name: 'priority', type: 'int', default: 0 }],
      } as AvroSchema;
      const v2 = await s.capture.registry.register('todo', evolved);
      const second = await call<{ versions: Array<{ id: number; version: number }> }>(
        s,
        { method: 'GET', url: '/schemas/todo' },
        200,
      );
      assert.deepEqual(
        second.versions.map((v) => [v.id, v.version]),
        [
          [v1.id, 1],
          [v2.id, 2],
        ],
      );
      const unknown = await call(s, { method: 'GET', url: '/schemas/nope' }, 404);
      assert.equal(unknown.error, 'NOT_FOUND');
    });
  });

  describe('rejected requests write nothing', () => {
    test('a record with a wrong type, a missing field or an unknown field is 400 listing each path', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();

      const wrongType = await putRefused(s, 'seed', { name: 42 }, 400);
      assert.equal(wrongType.error, 'VALIDATION_FAILED');
      assert.deepEqual(
        wrongType.issues?.map((i) => i.path),
        ['name'],
      );
      assert.match(wrongType.issues?.[0]?.message ?? '', /expected string, got 42/);

      const missing = await putRefused(s, 'r1', { done: true }, 400);
      assert.deepEqual(
        missing.issues?.map((i) => i.path),
        ['name'],
      );
      assert.match(missing.issues?.[0]?.message ?? '', /is required/);

      const unknownField = await putRefused(s, 'r1', { name: 'n', colour: 'red' }, 400);
      assert.deepEqual(
        unknownField.issues?.map((i) => i.path),
        ['colour'],
      );
      assert.match(unknownField.issues?.[0]?.message ?? '', /not a field of the schema/);

      const everything = await putRefused(s, 'r1', { name: 1, done: 'yes', colour: 'red' }, 400);
      assert.deepEqual(everything.issues?.map((i) => i.path).sort(), ['colour', 'done', 'name']);

      const notAnObject = await call(
        s,
        { method: 'PUT', url: '/entities/todo/r1', payload: [1, 2] },
        400,
      );
      assert.deepEqual(
        notAnObject.issues?.map((i) => i.path),
        [''],
      );

      assert.deepEqual(await s.state(), before);
    });

    test('a write to an unknown entity is 404 naming the entity', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const body = await call(
        s,
        { method: 'PUT', url: '/entities/nope/x', payload: { id: 'x', name: 'n' } },
        404,
      );
      assert.equal(body.error, 'UNKNOWN_ENTITY');
      assert.match(body.message, /"nope"/);
      await call(s, { method: 'DELETE', url: '/entities/nope/x' }, 404);
      await call(
        s,
        {
          method: 'POST',
          url: '/entities/nope/batch',
          payload: { writes: [{ op: 'delete', key: 'x' }] },
        },
        404,
      );
      await call(s, { method: 'GET', url: '/entities/nope/x' }, 404);
      assert.deepEqual(await s.state(), before);
    });

    test('a body over bodyLimit is 413 and writes nothing', async (t) => {
      const s = await serve(t, { bodyLimit: 256 });
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const body = await putRefused(s, 'big', { name: 'x'.repeat(300) }, 413);
      assert.equal(body.error, 'FST_ERR_CTP_BODY_TOO_LARGE');
      const batch = await call(
        s,
        {
          method: 'POST',
          url: '/entities/todo/batch',
          payload: { writes: [{ op: 'upsert', record: { id: 'b', name: 'x'.repeat(300) } }] },
        },
        413,
      );
      assert.equal(batch.error, 'FST_ERR_CTP_BODY_TOO_LARGE');
      assert.deepEqual(await s.state(), before);
      // Just under the limit is accepted.
      await put(s, 'small', { name: 'x'.repeat(100) });
    });

    test('malformed JSON is 400 and writes nothing', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      // An empty body is no body (refused by validation: see the DELETE test above).
      for (const payload of ['{"name": "x"', '{name: x}']) {
        const body = await call(
          s,
          {
            method: 'PUT',
            url: '/entities/todo/j1',
            payload,
            headers: { 'content-type': 'application/json' },
          },
          400,
        );
        assert.equal(body.error, 'FST_ERR_CTP_INVALID_JSON_BODY');
        assert.match(body.message, /json/i);
      }
      assert.deepEqual(await s.state(), before);
    });

    test('a non-JSON content type is 415; a text/plain body is 400 as it is not a JSON object', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      for (const [type, payload] of [
        ['application/xml', '<todo><name>x</name></todo>'],
        ['application/x-www-form-urlencoded', 'name=x'],
        ['application/octet-stream', '{"name":"x"}'],
      ] as const) {
        const body = await call(
          s,
          { method: 'PUT', url: '/entities/todo/c1', payload, headers: { 'content-type': type } },
          415,
        );
        assert.equal(body.error, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', type);
      }
      // Fastify parses text/plain by default; the string then fails the record check.
      const text = await call(
        s,
        {
          method: 'PUT',
          url: '/entities/todo/c1',
          payload: '{"name":"x"}',
          headers: { 'content-type': 'text/plain' },
        },
        400,
      );
      assert.equal(text.error, 'VALIDATION_FAILED');
      assert.match(text.message, /expected a JSON object/);
      assert.deepEqual(await s.state(), before);
    });

    test('an unknown write mode, in ?mode= or X-Write-Mode, is 400 naming mode', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const byQuery = await call(
        s,
        { method: 'PUT', url: '/entities/todo/m1?mode=bogus', payload: { name: 'n' } },
        400,
      );
      assert.equal(byQuery.error, 'VALIDATION_FAILED');
      assert.deepEqual(
        byQuery.issues?.map((i) => i.path),
        ['mode'],
      );
      assert.match(byQuery.message, /"bogus"/);
      await putRefused(s, 'm1', { name: 'n' }, 400, { 'x-write-mode': 'eventually' });
      await call(s, { method: 'DELETE', url: '/entities/todo/seed?mode=bogus' }, 400);
      assert.deepEqual(await s.state(), before);
    });

    test('a write-through with no sink is 409 NO_SINKS and writes nothing', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const body = await putRefused(s, 'w1', { name: 'n' }, 409, { 'x-write-mode': 'through' });
      assert.equal(body.error, 'NO_SINKS');
      assert.match(body.message, /behind/);
      await call(
        s,
        { method: 'PUT', url: '/entities/todo/w1?mode=through', payload: { name: 'n' } },
        409,
      );
      await call(
        s,
        {
          method: 'POST',
          url: '/entities/todo/batch',
          payload: { writes: [{ op: 'upsert', record: { id: 'w2', name: 'n' } }] },
          headers: { 'x-write-mode': 'through' },
        },
        409,
      );
      assert.deepEqual(await s.state(), before);
      await call(s, { method: 'GET', url: '/entities/todo/w1' }, 404);
    });
  });

  describe('idempotency', () => {
    test('a repeated Idempotency-Key returns the first event id with duplicate: true and appends one event', async (t) => {
      const s = await serve(t);
      const headers = { 'idempotency-key': 'req-42' };
      const first = await put(s, 'i1', { name: 'once' }, headers);
      assert.equal(first.duplicate, false);
      const again = await put(s, 'i1', { name: 'twice' }, headers);
      assert.equal(again.id, first.id);
      assert.equal(again.duplicate, true);
      const got = await call<ValueAnswer>(s, { method: 'GET', url: '/entities/todo/i1' }, 200);
      assert.equal(got.record.name, 'once');
      assert.equal(got.version, first.id);
      assert.equal((await s.events('i1')).length, 1);
      // Another key is another request.
      const other = await put(s, 'i1', { name: 'thrice' }, { 'idempotency-key': 'req-43' });
      assert.equal(other.duplicate, false);
      assert.equal((await s.events('i1')).length, 2);
    });
  });

  describe('batches', () => {
    test('POST batch applies upserts and deletes and answers one result per write, in order', async (t) => {
      const s = await serve(t);
      const writes = [
        { op: 'upsert', record: { id: 'b1', name: 'one' } },
        { op: 'upsert', record: { id: 'b2', name: 'two' } },
        { op: 'delete', key: 'b1' },
        { op: 'upsert', record: { id: 'b3', name: 'three' } },
        { op: 'upsert', record: { id: 'b2', name: 'two again' } },
      ];
      const { results } = await call<{ results: WriteAnswer[] }>(
        s,
        { method: 'POST', url: '/entities/todo/batch', payload: { writes } },
        200,
      );
      assert.deepEqual(
        results.map((r) => r.key),
        ['b1', 'b2', 'b1', 'b3', 'b2'],
      );
      assert.ok(results.every((r) => r.duplicate === false));
      assert.deepEqual(
        (await s.events('b1')).map((e) => [e.op, e.id]),
        [
          ['upsert', results[0]!.id],
          ['delete', results[2]!.id],
        ],
      );
      assert.deepEqual(
        (await s.events('b2')).map((e) => e.id),
        [results[1]!.id, results[4]!.id],
      );
      await call(s, { method: 'GET', url: '/entities/todo/b1' }, 404);
      const b2 = await call<ValueAnswer>(s, { method: 'GET', url: '/entities/todo/b2' }, 200);
      assert.equal(b2.record.name, 'two again');
      assert.equal(b2.version, results[4]!.id);
      const b3 = await call<ValueAnswer>(s, { method: 'GET', url: '/entities/todo/b3' }, 200);
      assert.equal(b3.version, results[3]!.id);
    });

    test('a batch with one invalid write is 400 with the issue path starting at its [index] and writes nothing', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const invalidRecord = await call(
        s,
        {
          method: 'POST',
          url: '/entities/todo/batch',
          payload: {
            writes: [
              { op: 'upsert', record: { id: 'v1', name: 'fine' } },
              { op: 'delete', key: 'seed' },
              { op: 'upsert', record: { id: 'v2', name: 7 } },
            ],
          },
        },
        400,
      );
      assert.equal(invalidRecord.error, 'VALIDATION_FAILED');
      assert.deepEqual(
        invalidRecord.issues?.map((i) => i.path),
        ['[2].name'],
      );
      const invalidWrite = await call(
        s,
        {
          method: 'POST',
          url: '/entities/todo/batch',
          payload: {
            writes: [
              { op: 'upsert', record: { id: 'v1', name: 'fine' } },
              { op: 'rename', key: 'seed' },
            ],
          },
        },
        400,
      );
      assert.deepEqual(
        invalidWrite.issues?.map((i) => i.path),
        ['[1]'],
      );
      assert.deepEqual(await s.state(), before);
    });

    test('an empty batch or a body without writes is 400 and writes nothing', async (t) => {
      const s = await serve(t);
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      for (const payload of [{ writes: [] }, [], { records: [] }]) {
        const body = await call(s, { method: 'POST', url: '/entities/todo/batch', payload }, 400);
        assert.equal(body.error, 'VALIDATION_FAILED', JSON.stringify(payload));
      }
      assert.deepEqual(await s.state(), before);
    });

    test('a batch over maxBatch is 400 and writes nothing', async (t) => {
      const s = await serve(t, { maxBatch: 3 });
      await put(s, 'seed', { name: 'seed' });
      const before = await s.state();
      const writes = ['a', 'b', 'c', 'd'].map((id) => ({ op: 'upsert', record: { id, name: id } }));
      const body = await call(
        s,
        { method: 'POST', url: '/entities/todo/batch', payload: { writes } },
        400,
      );
      assert.match(body.message, /1 to 3 writes, got 4/);
      assert.deepEqual(await s.state(), before);
    });
  });

  describe('bearer token', () => {
    test('with a token set, no or a wrong Authorization is 401 and writes nothing', async (t) => {
      const s = await serve(t, { token: 's3cret-token' });
      const before = await s.state();
      for (const authorization of [
        undefined,
        'Bearer wrong',
        'Bearer s3cret-token-and-more',
        'bearer s3cret-token',
        'Basic czNjcmV0LXRva2Vu',
      ]) {
        const res = await s.app.inject({
          method: 'PUT',
          url: '/entities/todo/a1',
          payload: { name: 'n' },
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(res.statusCode, 401, String(authorization));
        assert.equal(res.headers['www-authenticate'], 'Bearer');
        assert.equal(res.json<ErrorBody>().error, 'UNAUTHORIZED');
      }
      for (const [method, url] of [
        ['DELETE', '/entities/todo/a1'],
        ['GET', '/entities/todo/a1'],
        ['GET', '/schemas/todo'],
        ['GET', '/metrics'],
      ] as const) {
        const res = await s.app.inject({ method, url });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
      }
      const batch = await s.app.inject({
        method: 'POST',
        url: '/entities/todo/batch',
        payload: { writes: [{ op: 'upsert', record: { id: 'a2', name: 'n' } }] },
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(batch.statusCode, 401);
      assert.deepEqual(await s.state(), before);
    });

    test('with a token set, /healthz needs none and the right token is accepted', async (t) => {
      const s = await serve(t, { token: 's3cret-token' });
      const health = await call<{ status: string }>(s, { method: 'GET', url: '/healthz' }, 200);
      assert.equal(health.status, 'ok');
      const headers = { authorization: 'Bearer s3cret-token' };
      const written = await put(s, 'a1', { name: 'n' }, headers);
      const got = await call<ValueAnswer>(
        s,
        { method: 'GET', url: '/entities/todo/a1', headers },
        200,
      );
      assert.equal(got.version, written.id);
    });
  });

  describe('operations', () => {
    test('/healthz is 200 when Redis is up', async (t) => {
      const s = await serve(t);
      const body = await call<{ status: string }>(s, { method: 'GET', url: '/healthz' }, 200);
      assert.deepEqual(body, { status: 'ok' });
    });

    test('/healthz is 503 when Redis is unreachable', async (t) => {
      const ctx = await createTestRedisClient('capture_http');
      const redis = await connectCuttableTestRedis();
      const capture = await createCapture({
        redis,
        prefix: ctx.capturePrefix,
        entities: { todo: { schema: schemaFile('todo'), partitions: P } },
      });
      const app = buildCaptureServer(capture);
      t.after(async () => {
        await app.close();
        await capture.close();
        redis.disconnect();
        await ctx.cleanup();
      });
      redis.disconnect();
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<{ status: string }>().status, 'unavailable');
    });

    test('writes and reads while Redis is unreachable are 503 UNAVAILABLE, saying to retry later', async (t) => {
      const ctx = await createTestRedisClient('capture_http');
      const redis = await connectCuttableTestRedis();
      const capture = await createCapture({
        redis,
        prefix: ctx.capturePrefix,
        entities: { todo: { schema: schemaFile('todo'), partitions: P } },
      });
      await capture.upsert('todo', { id: 'p1', name: 'before' });
      const app = buildCaptureServer(capture);
      t.after(async () => {
        await app.close();
        await capture.close();
        redis.disconnect();
        await ctx.cleanup();
      });
      // ioredis rejects every command with a plain "Connection is closed." error from now on.
      redis.disconnect();
      const requests: InjectOptions[] = [
        { method: 'PUT', url: '/entities/todo/u1', payload: { name: 'x' } },
        { method: 'PATCH', url: '/entities/todo/p1', payload: { name: 'y' } },
        { method: 'DELETE', url: '/entities/todo/p1' },
        {
          method: 'POST',
          url: '/entities/todo/batch',
          payload: [{ record: { id: 'b1', name: 'z' } }],
        },
        { method: 'GET', url: '/entities/todo/p1' },
        { method: 'GET', url: '/schemas/todo' },
      ];
      for (const request of requests) {
        const res = await app.inject(request);
        const what = `${request.method} ${request.url}`;
        assert.equal(res.statusCode, 503, what);
        const body = res.json<ErrorBody>();
        assert.equal(body.error, 'UNAVAILABLE', what);
        assert.match(body.message, /retry later/, what);
      }
    });

    test('/metrics counts writes by entity in cdc_capture_writes_total and refusals in cdc_capture_rejected_total', async (t) => {
      const s = await serve(t);
      const metrics = async () => {
        const res = await s.app.inject({ method: 'GET', url: '/metrics' });
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/plain/);
        return res.body;
      };
      const initial = await metrics();
      assert.match(initial, /# TYPE cdc_capture_writes_total counter/);
      assert.equal(metricValue(initial, 'cdc_capture_writes_total', { entity: 'todo' }), 0);

      await put(s, 'x1', { name: 'a' });
      await put(s, 'x2', { name: 'b' }, { 'idempotency-key': 'k' });
      await put(s, 'x2', { name: 'b' }, { 'idempotency-key': 'k' });
      await call(s, { method: 'DELETE', url: '/entities/todo/x1' }, 200);
      await putRefused(s, 'x3', { name: 3 }, 400);

      const text = await metrics();
      const writes = (labels: Record<string, string>) =>
        metricValue(text, 'cdc_capture_writes_total', { entity: 'todo', ...labels });
      assert.equal(writes({}), 4);
      assert.equal(writes({ op: 'upsert', duplicate: 'false' }), 2);
      assert.equal(writes({ op: 'upsert', duplicate: 'true' }), 1);
      assert.equal(writes({ op: 'delete' }), 1);
      assert.equal(
        metricValue(text, 'cdc_capture_rejected_total', {
          entity: 'todo',
          code: 'VALIDATION_FAILED',
        }),
        1,
      );
      assert.equal(metricValue(text, 'cdc_capture_write_seconds_count', { entity: 'todo' }), 4);
    });
  });

  describe('over a real listening socket', () => {
    test('a client can PUT, GET and DELETE over HTTP and gets 413 for an oversized body', async (t) => {
      const s = await serve(t, { bodyLimit: 1024, token: 'sock-token' });
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = s.app.server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      const auth = { authorization: 'Bearer sock-token' };
      const json = { ...auth, 'content-type': 'application/json' };

      const putRes = await fetch(`${base}/entities/todo/s1`, {
        method: 'PUT',
        headers: { ...json, 'idempotency-key': 'sock-1' },
        body: JSON.stringify({ name: 'over the wire' }),
      });
      assert.equal(putRes.status, 200);
      assert.match(putRes.headers.get('content-type') ?? '', /^application\/json/);
      const written = (await putRes.json()) as WriteAnswer;
      assert.equal(written.duplicate, false);

      const repeat = await fetch(`${base}/entities/todo/s1`, {
        method: 'PUT',
        headers: { ...json, 'idempotency-key': 'sock-1' },
        body: JSON.stringify({ name: 'over the wire' }),
      });
      assert.deepEqual(
        { ...((await repeat.json()) as WriteAnswer) },
        { ...written, duplicate: true },
      );

      const getRes = await fetch(`${base}/entities/todo/s1`, { headers: auth });
      assert.equal(getRes.status, 200);
      const got = (await getRes.json()) as ValueAnswer;
      assert.equal(got.version, written.id);
      assert.equal(got.record.name, 'over the wire');

      const unauthorized = await fetch(`${base}/entities/todo/s1`, { method: 'DELETE' });
      assert.equal(unauthorized.status, 401);
      await unauthorized.arrayBuffer();

      const before = await s.state();
      const tooBig = await fetch(`${base}/entities/todo/s2`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ name: 'x'.repeat(4096) }),
      });
      assert.equal(tooBig.status, 413);
      assert.equal(((await tooBig.json()) as ErrorBody).error, 'FST_ERR_CTP_BODY_TOO_LARGE');
      assert.deepEqual(await s.state(), before);

      const delRes = await fetch(`${base}/entities/todo/s1`, { method: 'DELETE', headers: auth });
      assert.equal(delRes.status, 200);
      await delRes.arrayBuffer();
      const gone = await fetch(`${base}/entities/todo/s1`, { headers: auth });
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as ErrorBody).message, 'todo "s1" not found');

      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
    });
  });
});
