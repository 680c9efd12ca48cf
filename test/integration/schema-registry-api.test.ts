import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { SchemaRegistry as RegistryClient, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { type ChangeEvent, decodeEnvelope } from '../../runtime/envelope.ts';
import { decodeConfluentValue, encodeConfluentValue } from '../../runtime/kafka/confluent-wire.ts';
import { resolveKafkaTopics } from '../../runtime/kafka/kafka-topics.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import {
  buildCaptureServer,
  type CaptureServerOptions,
} from '../../services/capture/src/server.ts';
import {
  connectCuttableTestRedis,
  createTestRedisClient,
  testRedisOptions,
} from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { serveCapture } from '../support/capture-server-fixture.ts';

const REGISTRY_TYPE = 'application/vnd.schemaregistry.v1+json';

const todoV1 = schemaFile('todo') as unknown as { fields: object[] } & Record<string, unknown>;
/** v2 adds a field with a default: it reads v1 data, so capture registers it as version 2. */
const todoV2 = {
  ...todoV1,
  fields: [...todoV1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
} as unknown as AvroSchema;
/** Reads v2 data (the new field has a default): could follow v2. */
const todoV3Compatible = {
  ...todoV1,
  fields: [
    ...(todoV2 as unknown as { fields: object[] }).fields,
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
  ],
};
/** A field without a default cannot be read from data that lacks it. */
const todoV3Breaking = {
  ...todoV1,
  fields: [
    ...(todoV2 as unknown as { fields: object[] }).fields,
    { name: 'owner', type: 'string' },
  ],
};

/** The Schema Registry's error answer. */
interface RegistryError {
  error_code: number;
  message: string;
}

/** The registry's answer for one subject version. */
interface SubjectVersion {
  subject: string;
  id: number;
  version: number;
  schema: string;
}

/**
 * The capture service over a registry holding two versions of `todo` (and one of `user`): the
 * v1 capture wrote `t1` and closed, the v2 capture (the one served) wrote `t2`.
 */
interface Service {
  app: FastifyInstance;
  capture: Capture;
  prefix: string;
  redis: RedisClient;
  /** The schema ids of todo's versions 1 and 2. */
  ids: { v1: number; v2: number };
  /** The subject of todo's values. */
  subject: string;
  /** The captured upsert events of todo, in order. */
  events(): Promise<ChangeEvent[]>;
}

const recordV1 = {
  id: 't1',
  name: 'written with v1',
  description: 'old',
  done: true,
  created_at: '2024-05-01T12:00:00.000Z',
  updated_at: null,
};
const recordV2 = {
  id: 't2',
  name: 'written with v2',
  description: null,
  done: false,
  created_at: null,
  updated_at: '2024-06-02T08:30:00.000Z',
  priority: 3,
};

/**
 * Starts the capture service on a fresh prefix; `bridgeSection` is the bridge's section of the
 * project file, whose topics name the subjects (as the service's main reads it).
 */
async function serve(
  t: TestContext,
  options: CaptureServerOptions = {},
  bridgeSection?: unknown,
): Promise<Service> {
  let v1 = 0;
  const open = (prefix: string, todo: AvroSchema) =>
    createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: {
        todo: { schema: todo, partitions: 1 },
        user: { schema: schemaFile('user'), partitions: 1 },
      },
    });
  const entities = new Map([
    ['todo', { partitions: 1 }],
    ['user', { partitions: 1 }],
  ]);
  const { app, capture, redis, prefix } = await serveCapture(
    t,
    'registry_api',
    async (prefix) => {
      const first = await open(prefix, todoV1 as unknown as AvroSchema);
      v1 = first.schemaOf('todo').id;
      await first.upsert('todo', recordV1);
      await first.close();
      return open(prefix, todoV2);
    },
    (prefix) => ({
      ...options,
      kafkaTopics: resolveKafkaTopics(bridgeSection, prefix, entities),
    }),
  );
  const written = await app.inject({
    method: 'PUT',
    url: '/entities/todo/t2',
    payload: recordV2,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  });
  assert.equal(written.statusCode, 200, written.body);
  const keys = capture.keys;
  return {
    app,
    capture,
    prefix,
    redis,
    ids: { v1, v2: capture.schemaOf('todo').id },
    subject: `${prefix}.todo-value`,
    events: async () =>
      (await redis.xrangeBuffer(keys.stream('todo', 0), '-', '+')).map(([id, fields]) =>
        decodeEnvelope(id.toString(), fields),
      ),
  };
}

/** Sends one request, asserts its status and the registry's media type; returns the JSON. */
async function call<T = RegistryError>(
  service: Service,
  options: InjectOptions,
  status: number,
): Promise<T> {
  const res = await service.app.inject(options);
  assert.equal(res.statusCode, status, `${options.method} ${options.url}: ${res.body}`);
  assert.equal(res.headers['content-type'], REGISTRY_TYPE, `${options.method} ${options.url}`);
  return res.json<T>();
}

const get = <T = RegistryError>(s: Service, url: string, status = 200) =>
  call<T>(s, { method: 'GET', url }, status);

/** Asks whether `schema` (an object, sent as the registry's schema string) could follow `version`. */
function compatibility<T = { is_compatible: boolean; messages?: string[] }>(
  s: Service,
  subject: string,
  version: string,
  body: unknown,
  status = 200,
  contentType = REGISTRY_TYPE,
) {
  return call<T>(
    s,
    {
      method: 'POST',
      url: `/compatibility/subjects/${subject}/versions/${version}`,
      headers: { 'content-type': contentType },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    },
    status,
  );
}

/** Listens on a free port and returns a registry client pointed at the capture service. */
async function registryClient(
  s: Service,
  auth?: { username: string; password: string },
): Promise<RegistryClient> {
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as AddressInfo;
  return new RegistryClient({
    host: `http://127.0.0.1:${port}`,
    // A refusal is the answer under test: no retries.
    retry: { retries: 0 },
    ...(auth ? { auth } : {}),
  });
}

/** The wire-format value the bridge produces for a captured upsert. */
function kafkaValue(event: ChangeEvent): Buffer {
  assert.equal(event.op, 'upsert');
  return encodeConfluentValue(event.schemaId!, event.payload!);
}

/**
 * What a standard Avro reader makes of a captured record: timestamp-millis is its underlying
 * long (the project's ISO strings are its own logical-type mapping), a record a plain object.
 */
function asStandardAvro(record: Record<string, unknown>): Record<string, unknown> {
  const out = { ...record };
  for (const field of ['created_at', 'updated_at'])
    if (typeof out[field] === 'string') out[field] = Date.parse(out[field] as string);
  return out;
}

describe('Confluent Schema Registry API of the capture service', () => {
  describe('GET /schemas/ids/:id', () => {
    test('answers the schema registered under the id, as a string, without schemaType (Avro)', async (t) => {
      const s = await serve(t);
      for (const id of [s.ids.v1, s.ids.v2]) {
        const registered = await s.capture.registry.get(id);
        const body = await get<Record<string, unknown>>(s, `/schemas/ids/${id}`);
        assert.deepEqual(body, { schema: registered.schema });
      }
      const v1 = await get<{ schema: string }>(s, `/schemas/ids/${s.ids.v1}`);
      assert.equal(
        (JSON.parse(v1.schema) as { fields: { name: string }[] }).fields.some(
          (f) => f.name === 'priority',
        ),
        false,
      );
    });

    test('an id nobody registered, or one that is not an id, is 40403 schema not found', async (t) => {
      const s = await serve(t);
      for (const id of ['999999', '0', '-1', 'abc', '1.5', '2147483648', '99999999999']) {
        const body = await get(s, `/schemas/ids/${id}`, 404);
        assert.equal(body.error_code, 40403, id);
        assert.match(body.message, /not found/);
      }
    });
  });

  describe('GET /subjects', () => {
    test('lists <prefix>.<entity>-value for every entity with a registered version', async (t) => {
      const s = await serve(t);
      assert.deepEqual(await get<string[]>(s, '/subjects'), [
        `${s.prefix}.todo-value`,
        `${s.prefix}.user-value`,
      ]);
    });

    test('an entity with a topic of its own in the bridge section is listed under that topic', async (t) => {
      const s = await serve(t, {}, { topics: { user: { topic: 'people' } } });
      assert.deepEqual(await get<string[]>(s, '/subjects'), [
        'people-value',
        `${s.prefix}.todo-value`,
      ]);
      assert.deepEqual(await get<number[]>(s, '/subjects/people-value/versions'), [1]);
      // Only the configured topic counts: the default topic is not user's.
      const body = await get(s, `/subjects/${s.prefix}.user-value/versions`, 404);
      assert.equal(body.error_code, 40401);
    });
  });

  describe('GET /subjects/:subject/versions', () => {
    test('lists the versions of the subject, oldest first', async (t) => {
      const s = await serve(t);
      assert.deepEqual(await get<number[]>(s, `/subjects/${s.subject}/versions`), [1, 2]);
      assert.deepEqual(await get<number[]>(s, `/subjects/${s.prefix}.user-value/versions`), [1]);
    });

    test('a subject that names no entity with a version is 40401 subject not found', async (t) => {
      const s = await serve(t);
      for (const subject of [
        `${s.prefix}.order-value`,
        `${s.prefix}.todo-key`,
        `${s.prefix}.todo`,
        'todo-value',
        `other.todo-value`,
        `${s.prefix}.a:b-value`,
      ]) {
        const body = await get(s, `/subjects/${encodeURIComponent(subject)}/versions`, 404);
        assert.equal(body.error_code, 40401, subject);
        assert.match(body.message, /Subject .* not found/);
      }
    });
  });

  describe('GET /subjects/:subject/versions/:version', () => {
    test('answers subject, id, version and schema of a version, or of the latest', async (t) => {
      const s = await serve(t);
      const v1 = await get<SubjectVersion>(s, `/subjects/${s.subject}/versions/1`);
      assert.deepEqual(v1, {
        subject: s.subject,
        id: s.ids.v1,
        version: 1,
        schema: (await s.capture.registry.get(s.ids.v1)).schema,
      });
      for (const latest of ['2', 'latest', 'LATEST']) {
        const v2 = await get<SubjectVersion>(s, `/subjects/${s.subject}/versions/${latest}`);
        assert.equal(v2.id, s.ids.v2, latest);
        assert.equal(v2.version, 2, latest);
        assert.equal(v2.schema, s.capture.schemaOf('todo').schema, latest);
      }
    });

    test('a version the subject lacks is 40402, a subject unknown 40401, a version not a version id 42202 (checked first)', async (t) => {
      const s = await serve(t);
      const missing = await get(s, `/subjects/${s.subject}/versions/3`, 404);
      assert.equal(missing.error_code, 40402);
      assert.match(missing.message, /Version 3 not found/);
      const unknown = await get(s, `/subjects/${s.prefix}.order-value/versions/1`, 404);
      assert.equal(unknown.error_code, 40401);
      for (const version of ['0', '-1', 'abc', '1.5', '2147483648', 'first']) {
        for (const subject of [s.subject, `${s.prefix}.order-value`]) {
          const body = await get(s, `/subjects/${subject}/versions/${version}`, 422);
          assert.equal(body.error_code, 42202, `${subject} ${version}`);
          assert.match(body.message, /not a valid version id/);
        }
      }
    });
  });

  describe('POST /compatibility/subjects/:subject/versions/:version', () => {
    test('is_compatible says whether the schema could follow the version under the project rule, registering nothing', async (t) => {
      const s = await serve(t);
      const before = await get<number[]>(s, `/subjects/${s.subject}/versions`);
      const schema = (value: object) => ({ schema: JSON.stringify(value) });
      assert.deepEqual(await compatibility(s, s.subject, 'latest', schema(todoV3Compatible)), {
        is_compatible: true,
      });
      assert.deepEqual(await compatibility(s, s.subject, 'latest', schema(todoV3Breaking)), {
        is_compatible: false,
      });
      // The same answer register gives: the breaking schema is refused there too.
      await assert.rejects(
        s.capture.registry.register('todo', todoV3Breaking as unknown as AvroSchema),
        /owner/,
      );
      // Against a given version: a priority of another type reads v1 data (which has none) but
      // not v2 data.
      const retyped = {
        ...todoV1,
        fields: [...todoV1.fields, { name: 'priority', type: 'boolean', default: false }],
      };
      assert.equal((await compatibility(s, s.subject, '2', schema(retyped))).is_compatible, false);
      assert.equal((await compatibility(s, s.subject, '1', schema(retyped))).is_compatible, true);
      assert.deepEqual(await get<number[]>(s, `/subjects/${s.subject}/versions`), before);
      assert.deepEqual(await get<string[]>(s, '/subjects'), [
        `${s.prefix}.todo-value`,
        `${s.prefix}.user-value`,
      ]);
    });

    test('?verbose=true says why a schema is not compatible', async (t) => {
      const s = await serve(t);
      const refused = await compatibility(s, s.subject, 'latest?verbose=true', {
        schema: JSON.stringify(todoV3Breaking),
      });
      assert.equal(refused.is_compatible, false);
      assert.equal(refused.messages?.length, 1);
      assert.match(refused.messages?.[0] ?? '', /owner/);
      const accepted = await compatibility(s, s.subject, 'latest?verbose=true', {
        schema: JSON.stringify(todoV3Compatible),
      });
      assert.deepEqual(accepted, { is_compatible: true, messages: [] });
    });

    test('accepts the registry media types and plain JSON; refuses others with 415', async (t) => {
      const s = await serve(t);
      const body = { schema: JSON.stringify(todoV3Compatible) };
      for (const type of [
        REGISTRY_TYPE,
        'application/vnd.schemaregistry+json',
        'application/json',
        'application/json; charset=utf-8',
      ]) {
        const answer = await compatibility(s, s.subject, 'latest', body, 200, type);
        assert.equal(answer.is_compatible, true, type);
      }
      const refused = await compatibility<RegistryError>(
        s,
        s.subject,
        'latest',
        body,
        415,
        'text/plain',
      );
      assert.equal(refused.error_code, 415);
      const malformed = await compatibility<RegistryError>(
        s,
        s.subject,
        'latest',
        '{"schema": ',
        400,
      );
      assert.equal(malformed.error_code, 400);
    });

    test('a schema that is not one is 42201; subject 40401, version 42202 and 40402, in the registry order', async (t) => {
      const s = await serve(t);
      const good = { schema: JSON.stringify(todoV3Compatible) };
      for (const [body, pattern] of [
        [{ schema: '{"type": "record", "name": "X"' }, /not a valid Avro schema/],
        [{ schema: '{"type": "no-such-type"}' }, /not a valid Avro schema/],
        [{ schema: { type: 'record', name: 'X', fields: [] } }, /must be \{"schema"/],
        [{}, /must be \{"schema"/],
        [[], /must be \{"schema"/],
        [{ ...good, schemaType: 'PROTOBUF' }, /only Avro/],
        [{ ...good, references: [{ name: 'x', subject: 'y', version: 1 }] }, /references/],
      ] as const) {
        const answer = await compatibility<RegistryError>(s, s.subject, 'latest', body, 422);
        assert.equal(answer.error_code, 42201, JSON.stringify(body));
        assert.match(answer.message, pattern);
      }
      // schemaType AVRO and no references are the defaults said out loud.
      const explicit = await compatibility(s, s.subject, 'latest', {
        ...good,
        schemaType: 'AVRO',
        references: [],
      });
      assert.equal(explicit.is_compatible, true);
      const unknown = await compatibility<RegistryError>(
        s,
        `${s.prefix}.order-value`,
        'x',
        good,
        404,
      );
      assert.equal(unknown.error_code, 40401);
      const badVersion = await compatibility<RegistryError>(s, s.subject, 'x', good, 422);
      assert.equal(badVersion.error_code, 42202);
      const noVersion = await compatibility<RegistryError>(s, s.subject, '7', { schema: 'x' }, 404);
      assert.equal(noVersion.error_code, 40402);
    });
  });

  test('a registry that cannot reach Redis answers 503 with error code 50001', async (t) => {
    const ctx = await createTestRedisClient('registry_api');
    const redis = await connectCuttableTestRedis();
    const capture = await createCapture({
      redis,
      prefix: ctx.capturePrefix,
      entities: { todo: { schema: schemaFile('todo'), partitions: 1 } },
    });
    const app = buildCaptureServer(capture);
    t.after(async () => {
      await app.close();
      await capture.close();
      redis.disconnect();
      await ctx.cleanup();
    });
    redis.disconnect();
    for (const url of ['/subjects', `/subjects/${ctx.capturePrefix}.todo-value/versions`]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 503, url);
      assert.equal(res.headers['content-type'], REGISTRY_TYPE);
      assert.equal(res.json<RegistryError>().error_code, 50001, url);
    }
  });

  describe('a standard registry client (@kafkajs/confluent-schema-registry)', () => {
    test('decodes the wire-format value of each captured event into the captured record, v1 with its writer schema', async (t) => {
      const s = await serve(t);
      const client = await registryClient(s);
      const [first, second] = await s.events();
      assert.ok(first && second);
      assert.equal(first.schemaId, s.ids.v1);
      assert.equal(second.schemaId, s.ids.v2);
      const v1Value = kafkaValue(first);
      assert.equal(decodeConfluentValue(v1Value).schemaId, s.ids.v1);
      // No reader schema: the client fetches the writer schema by the id in the value.
      assert.deepEqual({ ...(await client.decode(v1Value)) }, asStandardAvro(recordV1));
      assert.deepEqual({ ...(await client.decode(kafkaValue(second))) }, asStandardAvro(recordV2));
      // The latest version by subject, and a v1 value read with it: v2's default fills the gap.
      const latestId = await client.getLatestSchemaId(s.subject);
      assert.equal(latestId, s.ids.v2);
      assert.equal(await client.getRegistryId(s.subject, 1), s.ids.v1);
      const readerSchema = await client.getSchema(latestId);
      const upgraded = await client.decode(v1Value, { [SchemaType.AVRO]: { readerSchema } });
      assert.deepEqual({ ...upgraded }, { ...asStandardAvro(recordV1), priority: null });
    });

    test('with a token set, it authenticates with basic auth whose password is the token', async (t) => {
      const token = 'registry-s3cret';
      const s = await serve(t, { token });
      const [first] = await s.events();
      assert.ok(first);
      const value = kafkaValue(first);
      const anonymous = await registryClient(s);
      await assert.rejects(anonymous.decode(value), { status: 401 });
      const { port } = s.app.server.address() as AddressInfo;
      const wrong = new RegistryClient({
        host: `http://127.0.0.1:${port}`,
        retry: { retries: 0 },
        auth: { username: 'reader', password: 'not-the-token' },
      });
      await assert.rejects(wrong.decode(value), { status: 401 });
      const right = new RegistryClient({
        host: `http://127.0.0.1:${port}`,
        auth: { username: 'any-user-name', password: token },
      });
      assert.deepEqual({ ...(await right.decode(value)) }, asStandardAvro(recordV1));
      assert.equal(await right.getLatestSchemaId(s.subject), s.ids.v2);
    });

    test('with a token set, every registry route needs it, as a bearer token or as the basic auth password', async (t) => {
      const token = 'registry-s3cret';
      const s = await serve(t, { token });
      const basic = (user: string, password: string) =>
        `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      const routes: InjectOptions[] = [
        { method: 'GET', url: `/schemas/ids/${s.ids.v1}` },
        { method: 'GET', url: '/subjects' },
        { method: 'GET', url: `/subjects/${s.subject}/versions` },
        { method: 'GET', url: `/subjects/${s.subject}/versions/latest` },
        {
          method: 'POST',
          url: `/compatibility/subjects/${s.subject}/versions/latest`,
          payload: { schema: JSON.stringify(todoV3Compatible) },
        },
      ];
      for (const route of routes) {
        for (const authorization of [
          undefined,
          `Bearer wrong`,
          basic('u', 'wrong'),
          basic(token, ''),
          `Basic ${Buffer.from(token).toString('base64')}`,
        ]) {
          const res = await s.app.inject({
            ...route,
            headers: authorization === undefined ? {} : { authorization },
          });
          assert.equal(res.statusCode, 401, `${route.url} ${authorization}`);
        }
        for (const authorization of [
          `Bearer ${token}`,
          basic('', token),
          basic('someone', token),
          basic('reader', token).replace('Basic', 'basic'),
        ]) {
          const res = await s.app.inject({ ...route, headers: { authorization } });
          assert.equal(res.statusCode, 200, `${route.url} ${authorization}: ${res.body}`);
        }
      }
    });
  });
});
