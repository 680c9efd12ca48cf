import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Long } from 'mongodb';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { SinkEvent } from '../../runtime/sink/sink.ts';
import {
  buildDocumentMapping,
  documentId,
  documentPath,
  liveDocument,
  tombstoneDocument,
} from '../../services/sink-mongo/src/mongo-document.ts';
import { MongoMappingError } from '../../services/sink-mongo/src/mongo-mapping-error.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

const todoType = parseSchema(schemaFile('todo'));
const userType = parseSchema(schemaFile('user'));
const todo = buildDocumentMapping('todo', todoType, 'id', 'todo');
const user = buildDocumentMapping('user', userType, 'id', 'people', { first_name: 'firstName' });

function upsert(entity: string, key: string, record: Record<string, unknown>): SinkEvent {
  return {
    id: '1700000000000-3',
    op: 'upsert',
    entity,
    key,
    record,
    capturedAt: 1_700_000_000_000,
  };
}

/** A record as the runner hands it over: decoded from Avro with the reader schema. */
function decoded(
  type: ReturnType<typeof parseSchema>,
  record: Record<string, unknown>,
): Record<string, unknown> {
  return { ...(type.fromBuffer(type.toBuffer(record)) as object) };
}

test('an upsert becomes the record without its key, with version and live flag', () => {
  const record = decoded(todoType, {
    id: 'a',
    name: 'Write tests',
    description: null,
    done: true,
    created_at: '2024-01-02T03:04:05.678Z',
    updated_at: null,
  });
  assert.deepEqual(liveDocument(todo, upsert('todo', 'a', record)), {
    _v: '00000001700000000000-00000000000000000003',
    _deleted: false,
    name: 'Write tests',
    description: null,
    done: true,
    created_at: new Date('2024-01-02T03:04:05.678Z'),
    updated_at: null,
  });
});

test('timestamps become Dates and dates become Dates at midnight UTC', () => {
  const record = decoded(userType, {
    id: 7,
    username: 'ada',
    email: 'ada@example.com',
    password_hash: 'h',
    first_name: 'Ada',
    last_name: null,
    date_of_birth: '1815-12-10',
    created_at: '2024-05-06T07:08:09.010Z',
    updated_at: 1_715_000_000_000,
  });
  const document = liveDocument(user, upsert('user', '7', record));
  assert.deepEqual(document.date_of_birth, new Date(Date.UTC(1815, 11, 10)));
  assert.deepEqual(document.created_at, new Date('2024-05-06T07:08:09.010Z'));
  assert.deepEqual(document.updated_at, new Date(1_715_000_000_000));
  assert.equal(document.firstName, 'Ada');
  assert.equal('first_name' in document, false);
  assert.equal(document.last_name, null);
});

test('values the schema type cannot hold fail with the path of the field', () => {
  const bad = (record: Record<string, unknown>, path: string): void => {
    assert.throws(
      () => liveDocument(todo, upsert('todo', 'a', { id: 'a', name: 'n', done: false, ...record })),
      (err: unknown) =>
        err instanceof MongoMappingError && err.path === path && err.retriable === false,
    );
  };
  bad({ created_at: 'yesterday' }, 'created_at');
  bad({ created_at: '2024-13-45T00:00:00Z' }, 'created_at');
  bad({ done: 'yes' }, 'done');
  bad({ name: 5 }, 'name');
  const dob = (value: unknown): SinkEvent =>
    upsert('user', '1', {
      id: 1,
      username: 'u',
      email: 'e',
      password_hash: 'h',
      created_at: 0,
      updated_at: 0,
      date_of_birth: value,
    });
  assert.throws(() => liveDocument(user, dob('2023-02-31')), MongoMappingError);
  assert.throws(() => liveDocument(user, dob('10/12/1815')), MongoMappingError);
  assert.throws(
    () => liveDocument(todo, { ...upsert('todo', 'a', {}), record: undefined }),
    MongoMappingError,
  );
});

test('nested records, arrays, maps, enums, bytes and unions keep their shape', () => {
  const type = parseSchema({
    type: 'record',
    name: 'Order',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['OPEN', 'DONE'] } },
      {
        name: 'lines',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Line',
            fields: [
              { name: 'sku', type: 'string' },
              {
                name: 'shipped',
                type: ['null', { type: 'int', logicalType: 'date' }],
                default: null,
              },
            ],
          },
        },
      },
      { name: 'tags', type: { type: 'map', values: 'int' } },
      { name: 'blob', type: 'bytes' },
      { name: 'choice', type: ['string', { type: 'enum', name: 'Other', symbols: ['X'] }] },
      { name: 'amount', type: 'double' },
      { name: 'big', type: 'long' },
    ],
  });
  const mapping = buildDocumentMapping('order', type, 'id', 'order');
  const record = decoded(type, {
    id: 1,
    status: 'OPEN',
    lines: [
      { sku: 's1', shipped: '2024-02-29' },
      { sku: 's2', shipped: null },
    ],
    tags: { a: 1 },
    blob: Buffer.from('hi'),
    choice: { Other: 'X' },
    amount: 1.5,
    big: 2 ** 40,
  });
  const document = liveDocument(mapping, upsert('order', '1', record));
  assert.deepEqual(document.lines, [
    { sku: 's1', shipped: new Date(Date.UTC(2024, 1, 29)) },
    { sku: 's2', shipped: null },
  ]);
  assert.equal(document.status, 'OPEN');
  assert.deepEqual(document.tags, { a: 1 });
  assert.deepEqual(document.blob, Buffer.from('hi'));
  assert.equal(document.choice, 'X');
  assert.equal(document.amount, 1.5);
  assert.equal(document.big, 2 ** 40);
  // A long that arrives as a bigint (a custom long type) is stored as a BSON Long.
  const bigint = liveDocument(mapping, upsert('order', '1', { ...record, big: 2n ** 60n }));
  assert.ok(bigint.big instanceof Long);
  // Plain objects, not the classes avsc decodes records into.
  assert.equal(Object.getPrototypeOf((document.lines as object[])[0]), Object.prototype);
});

test('a delete becomes a tombstone with no data fields', () => {
  const event: SinkEvent = {
    id: '12-0',
    op: 'delete',
    entity: 'todo',
    key: 'a',
    record: undefined,
    capturedAt: 1_000,
  };
  assert.deepEqual(tombstoneDocument(event), {
    _v: '00000000000000000012-00000000000000000000',
    _deleted: true,
    _deletedAt: new Date(1_000),
  });
});

test('the _id has the type of the key field', () => {
  assert.equal(documentId(todo, '42'), '42');
  assert.equal(documentId(user, '42'), 42);
  assert.equal(documentId(user, '-7'), -7);
  assert.throws(() => documentId(user, 'abc'), MongoMappingError);
  assert.throws(() => documentId(user, '1.5'), MongoMappingError);
  assert.throws(
    () => documentId(user, '9223372036854775808'),
    /-9223372036854775808 to 9223372036854775807/,
  );
});

test('a long key beyond ±(2^53 - 1) is a BSON Long _id with every digit', () => {
  for (const key of ['9007199254740993', '9223372036854775807', '-9223372036854775808']) {
    const id = documentId(user, key);
    assert.ok(id instanceof Long);
    assert.equal(id.toString(), key);
  }
  // Within the safe range the _id stays a number, as before.
  assert.equal(documentId(user, '9007199254740991'), 9007199254740991);
});

test('index paths go through the field mapping', () => {
  assert.equal(documentPath(user, 'first_name'), 'firstName');
  assert.equal(documentPath(user, 'email'), 'email');
  assert.equal(documentPath(user, 'id'), '_id');
  assert.equal(documentPath(user, 'nope'), undefined);
});

test('mappings that do not fit the schema are configuration errors', () => {
  assert.throws(() => buildDocumentMapping('todo', todoType, 'nope', 'todo'), ConfigError);
  assert.throws(() => buildDocumentMapping('todo', todoType, 'done', 'todo'), ConfigError);
  assert.throws(
    () => buildDocumentMapping('todo', todoType, 'id', 'todo', { title: 'x' }),
    ConfigError,
  );
  assert.throws(
    () => buildDocumentMapping('todo', todoType, 'id', 'todo', { id: 'x' }),
    ConfigError,
  );
  assert.throws(
    () => buildDocumentMapping('todo', todoType, 'id', 'todo', { name: 'done' }),
    ConfigError,
  );
  assert.throws(
    () => buildDocumentMapping('todo', todoType, 'id', 'todo', { name: '_v' }),
    ConfigError,
  );
  assert.throws(
    () => buildDocumentMapping('todo', todoType, 'id', 'todo', { name: 'a.b' }),
    ConfigError,
  );
  const reserved = parseSchema({
    type: 'record',
    name: 'R',
    fields: [
      { name: 'id', type: 'string' },
      { name: '_deleted', type: 'boolean' },
    ],
  });
  assert.throws(() => buildDocumentMapping('r', reserved, 'id', 'r'), ConfigError);
  assert.doesNotThrow(() =>
    buildDocumentMapping('r', reserved, 'id', 'r', { _deleted: 'deleted' }),
  );
});
