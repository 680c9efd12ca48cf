import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Long } from 'mongodb';
import { PayloadError } from '../../runtime/errors/payload-error.ts';
import { type AvroSchema, parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import { DecodedEvent } from '../../runtime/sink/decoded-event.ts';
import type { SinkEvent } from '../../runtime/sink/sink.ts';
import { DocumentDecoders } from '../../services/sink-mongo/src/document-decoders.ts';
import {
  buildDocumentMapping,
  type DocumentMapping,
  liveDocument,
} from '../../services/sink-mongo/src/mongo-document.ts';
import { MongoMappingError } from '../../services/sink-mongo/src/mongo-mapping-error.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import {
  compileDocumentDecoder,
  parseBsonSchema,
} from '../../services/sink-mongo/src/payload-document-decoder.ts';

const ID = '1700000000000-3';
const VERSION = encodeVersion(ID);

function registered(id: number, schema: AvroSchema): RegisteredSchema {
  const type = parseSchema(schema);
  return {
    id,
    entity: 'thing',
    version: id,
    fingerprint: String(id),
    schema: JSON.stringify(schema),
    type,
  };
}

/** An upsert as the runner hands it to a sink that reads payloads: its record not decoded yet. */
function upsert(
  reader: RegisteredSchema,
  writer: RegisteredSchema,
  payload: Buffer,
  key = '1',
): DecodedEvent {
  const resolver = writer.id === reader.id ? undefined : reader.type.createResolver(writer.type);
  return new DecodedEvent(
    { id: ID, op: 'upsert', entity: 'thing', key, schemaId: writer.id, payload, capturedAt: 0 },
    reader,
    writer,
    resolver,
  );
}

interface Setup {
  reader: RegisteredSchema;
  mapping: DocumentMapping;
  decoders: DocumentDecoders;
}

function setup(schema: AvroSchema, rename: Record<string, string> = {}, id = 1): Setup {
  const reader = registered(id, schema);
  const mapping = buildDocumentMapping('thing', reader.type, 'id', 'things', rename);
  return { reader, mapping, decoders: new DocumentDecoders(mapping, reader) };
}

/** The document the record path builds (the runtime decodes the record, the sink maps it). */
function viaRecord(mapping: DocumentMapping, event: SinkEvent): unknown {
  return liveDocument(mapping, event, VERSION);
}

/** Asserts the payload path covers this writer and builds exactly the record path's document. */
function sameAsRecordPath(s: Setup, writer: RegisteredSchema, event: SinkEvent): unknown {
  const readerType = parseBsonSchema(s.reader);
  const writerType = writer.id === s.reader.id ? readerType : parseBsonSchema(writer);
  assert.ok(
    compileDocumentDecoder(s.mapping, readerType, writerType, writer.id === s.reader.id),
    'the payload path covers this schema',
  );
  const document = s.decoders.liveDocument(event, VERSION);
  assert.deepStrictEqual(document, viaRecord(s.mapping, event));
  return document;
}

const everything: AvroSchema = {
  type: 'record',
  name: 'Thing',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'flag', type: 'boolean' },
    { name: 'count', type: 'int' },
    { name: 'total', type: 'long' },
    { name: 'ratio', type: 'float' },
    { name: 'amount', type: 'double' },
    { name: 'name', type: 'string' },
    { name: 'blob', type: 'bytes' },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['OPEN', 'DONE'] } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    {
      name: 'price',
      type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 },
    },
    { name: 'uuid', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'maybeAt', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] },
    { name: 'maybeDay', type: ['null', { type: 'int', logicalType: 'date' }] },
    { name: 'maybeName', type: ['null', 'string'] },
    { name: 'nothing', type: 'null' },
  ],
};

const values = {
  id: 1,
  flag: true,
  count: -7,
  total: 2 ** 50,
  ratio: 0.5,
  amount: 1.25,
  name: 'héllo',
  blob: Buffer.from([1, 2, 3]),
  hash: Buffer.from('abcd'),
  status: 'DONE',
  at: '2024-05-06T07:08:09.010Z',
  day: '1815-12-10',
  price: Buffer.from([0x30, 0x39]),
  uuid: '0f8fad5b-d9cb-469f-a165-70867728950e',
  maybeAt: '1969-12-31T23:59:59.999Z',
  maybeDay: null,
  maybeName: null,
  nothing: null,
};

test('every type the sink maps decodes from the payload to the record path document', () => {
  const s = setup(everything);
  const event = upsert(s.reader, s.reader, s.reader.type.toBuffer(values));
  assert.deepStrictEqual(sameAsRecordPath(s, s.reader, event), {
    _v: VERSION,
    _deleted: false,
    flag: true,
    count: -7,
    total: 2 ** 50,
    ratio: 0.5,
    amount: 1.25,
    name: 'héllo',
    blob: Buffer.from([1, 2, 3]),
    hash: Buffer.from('abcd'),
    status: 'DONE',
    at: new Date('2024-05-06T07:08:09.010Z'),
    day: new Date(Date.UTC(1815, 11, 10)),
    // decimal and uuid are not logical types the project registers: their underlying type.
    price: Buffer.from([0x30, 0x39]),
    uuid: '0f8fad5b-d9cb-469f-a165-70867728950e',
    maybeAt: new Date(-1),
    maybeDay: null,
    maybeName: null,
    nothing: null,
  });
  const filled = upsert(
    s.reader,
    s.reader,
    s.reader.type.toBuffer({ ...values, maybeDay: '2024-02-29', maybeName: 'x' }),
  );
  const document = sameAsRecordPath(s, s.reader, filled) as Record<string, unknown>;
  assert.deepStrictEqual(document.maybeDay, new Date(Date.UTC(2024, 1, 29)));
  assert.equal(document.maybeName, 'x');
});

test('dates at the ends of the years an ISO date can name are stored', () => {
  const s = setup(everything);
  for (const day of ['0000-01-01', '9999-12-31', '1970-01-01']) {
    const event = upsert(s.reader, s.reader, s.reader.type.toBuffer({ ...values, day }));
    const document = sameAsRecordPath(s, s.reader, event) as Record<string, unknown>;
    assert.equal((document.day as Date).toISOString().slice(0, 10), day);
  }
});

test('renamed fields land under their document names, the key field only in _id', () => {
  const s = setup(everything, { name: 'title', at: 'when' });
  const event = upsert(s.reader, s.reader, s.reader.type.toBuffer(values));
  const document = sameAsRecordPath(s, s.reader, event) as Record<string, unknown>;
  assert.equal(document.title, 'héllo');
  assert.deepStrictEqual(document.when, new Date('2024-05-06T07:08:09.010Z'));
  for (const gone of ['name', 'at', 'id']) assert.equal(gone in document, false);
});

test('nested records, arrays, maps, wrapped unions and recursive records become plain documents', () => {
  const schema: AvroSchema = {
    type: 'record',
    name: 'Order',
    fields: [
      { name: 'id', type: 'string' },
      {
        name: 'lines',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Line',
            fields: [
              { name: 'sku', type: 'string' },
              { name: 'shipped', type: ['null', { type: 'int', logicalType: 'date' }] },
              { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
            ],
          },
        },
      },
      { name: 'tags', type: { type: 'map', values: 'int' } },
      { name: 'stamps', type: { type: 'map', values: { type: 'array', items: 'Line' } } },
      { name: 'days', type: { type: 'array', items: { type: 'int', logicalType: 'date' } } },
      { name: 'choice', type: ['string', { type: 'enum', name: 'Other', symbols: ['X'] }] },
      { name: 'either', type: ['null', 'Line', { type: 'map', values: 'string' }] },
      {
        name: 'tree',
        type: {
          type: 'record',
          name: 'Node',
          fields: [
            { name: 'label', type: 'string' },
            { name: 'children', type: { type: 'array', items: 'Node' } },
          ],
        },
      },
    ],
  };
  const s = setup(schema);
  const line = { sku: 's1', shipped: '2024-02-29', at: '2024-01-01T00:00:00.000Z' };
  const record = {
    id: 'o1',
    lines: [line, { ...line, sku: 's2', shipped: null }],
    tags: { a: 1, b: 2 },
    stamps: { k: [line] },
    days: ['2000-01-01'],
    choice: { Other: 'X' },
    either: { Line: line },
    tree: { label: 'root', children: [{ label: 'leaf', children: [] }] },
  };
  const event = upsert(s.reader, s.reader, s.reader.type.toBuffer(record), 'o1');
  const document = sameAsRecordPath(s, s.reader, event) as Record<string, unknown>;
  const stored = {
    sku: 's1',
    shipped: new Date(Date.UTC(2024, 1, 29)),
    at: new Date('2024-01-01T00:00:00.000Z'),
  };
  assert.deepStrictEqual(document.lines, [stored, { ...stored, sku: 's2', shipped: null }]);
  assert.deepStrictEqual(document.stamps, { k: [stored] });
  assert.deepStrictEqual(document.days, [new Date(Date.UTC(2000, 0, 1))]);
  assert.equal(document.choice, 'X');
  assert.deepStrictEqual(document.either, stored);
  assert.deepStrictEqual(document.tree, {
    label: 'root',
    children: [{ label: 'leaf', children: [] }],
  });
  // Plain objects, not the classes avsc decodes records and union branches into.
  assert.equal(Object.getPrototypeOf((document.lines as object[])[0]), Object.prototype);
  assert.equal(Object.getPrototypeOf(document.either), Object.prototype);
  const other = upsert(
    s.reader,
    s.reader,
    s.reader.type.toBuffer({ ...record, choice: { string: 'y' }, either: { map: { a: 'b' } } }),
    'o1',
  );
  const second = sameAsRecordPath(s, s.reader, other) as Record<string, unknown>;
  assert.equal(second.choice, 'y');
  assert.deepStrictEqual(second.either, { a: 'b' });
});

test('a payload of an older writer schema is resolved to the reader schema as the runtime does', () => {
  const v1: AvroSchema = {
    type: 'record',
    name: 'Thing',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'count', type: 'int' },
      { name: 'at', type: 'long' },
      { name: 'day', type: 'int' },
      { name: 'dropped', type: 'string' },
    ],
  };
  const v2: AvroSchema = {
    type: 'record',
    name: 'Thing',
    fields: [
      { name: 'id', type: 'long' },
      // Promoted: int → double, long → timestamp-millis, int → date.
      { name: 'count', type: 'double' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'day', type: { type: 'int', logicalType: 'date' } },
      { name: 'added', type: ['null', 'string'], default: null },
      { name: 'since', type: { type: 'int', logicalType: 'date' }, default: 19000 },
      { name: 'seen', type: { type: 'long', logicalType: 'timestamp-millis' }, default: 5 },
    ],
  };
  const writer = registered(1, v1);
  const s = setup(v2, {}, 2);
  const payload = writer.type.toBuffer({ id: 1, count: 3, at: 1000, day: 1, dropped: 'x' });
  const document = sameAsRecordPath(s, writer, upsert(s.reader, writer, payload));
  assert.deepStrictEqual(document, {
    _v: VERSION,
    _deleted: false,
    count: 3,
    at: new Date(1000),
    day: new Date(86_400_000),
    added: null,
    since: new Date(19000 * 86_400_000),
    seen: new Date(5),
  });
});

test('a value the sink cannot store fails with the same mapping error and path as before', () => {
  const s = setup(everything);
  // Year 10000: a valid Avro date, but no ISO YYYY-MM-DD names it.
  const payload = s.reader.type.toBuffer({ ...values, day: 2_932_897 });
  const event = upsert(s.reader, s.reader, payload);
  const expected = (() => {
    try {
      viaRecord(s.mapping, event);
    } catch (err) {
      return err;
    }
    assert.fail('the record path refuses the value');
  })();
  assert.ok(expected instanceof MongoMappingError);
  assert.throws(
    () => s.decoders.liveDocument(event, VERSION),
    (err: unknown) =>
      err instanceof MongoMappingError &&
      err.path === 'day' &&
      err.message === expected.message &&
      err.retriable === false,
  );
  // Superseded by a later event of its key, it is not stored, so it is no error either.
  assert.doesNotThrow(() => s.decoders.check(event));
});

test('a corrupt payload fails with a PayloadError, written or superseded', () => {
  const s = setup(everything);
  const good = s.reader.type.toBuffer(values);
  const corrupt = [
    good.subarray(0, good.length - 3),
    Buffer.concat([good, Buffer.from([0])]),
    // A timestamp beyond the range of a Date.
    s.reader.type.toBuffer({ ...values, at: 8.64e15 + 1 }),
  ];
  for (const payload of corrupt) {
    const event = upsert(s.reader, s.reader, payload);
    assert.throws(() => s.decoders.liveDocument(event, VERSION), PayloadError);
    assert.throws(() => s.decoders.check(event), PayloadError);
  }
  assert.doesNotThrow(() => s.decoders.check(upsert(s.reader, s.reader, good)));
});

test('unions of several non-null branches are left to the record path, which stores them as before', () => {
  const schema: AvroSchema = {
    type: 'record',
    name: 'Thing',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'when', type: ['null', 'string', { type: 'long', logicalType: 'timestamp-millis' }] },
    ],
  };
  const s = setup(schema);
  assert.equal(
    compileDocumentDecoder(s.mapping, parseBsonSchema(s.reader), parseBsonSchema(s.reader), true),
    undefined,
  );
  const event = upsert(
    s.reader,
    s.reader,
    s.reader.type.toBuffer({ id: 'a', when: 1_704_067_200_000 }),
    'a',
  );
  const document = s.decoders.liveDocument(event, VERSION);
  assert.deepStrictEqual(document, viaRecord(s.mapping, event));
  // The record path picks the first branch that holds the decoded ISO string.
  assert.equal(document.when, '2024-01-01T00:00:00.000Z');
});

test('an event built without a payload is mapped from its record', () => {
  const s = setup(everything);
  const record = s.reader.type.fromBuffer(s.reader.type.toBuffer(values)) as Record<
    string,
    unknown
  >;
  const event: SinkEvent = {
    id: ID,
    op: 'upsert',
    entity: 'thing',
    key: '1',
    record,
    capturedAt: 0,
  };
  assert.deepStrictEqual(s.decoders.liveDocument(event, VERSION), viaRecord(s.mapping, event));
});

test('longs beyond ±(2^53 - 1) are stored as BSON Longs by both paths', () => {
  const s = setup({
    type: 'record',
    name: 'Wide',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'big', type: 'long' },
      { name: 'maybe', type: ['null', 'long'], default: null },
      { name: 'list', type: { type: 'array', items: 'long' }, default: [] },
      { name: 'small', type: 'long' },
    ],
  });
  const max = 2n ** 63n - 1n;
  const min = -(2n ** 63n);
  const payload = s.reader.type.toBuffer({
    id: max,
    big: min,
    maybe: max,
    list: [max, 1],
    small: 2 ** 50,
  });
  const document = sameAsRecordPath(s, s.reader, upsert(s.reader, s.reader, payload, String(max)));
  assert.deepStrictEqual(document, {
    _v: VERSION,
    _deleted: false,
    big: Long.fromBigInt(min),
    maybe: Long.fromBigInt(max),
    list: [Long.fromBigInt(max), 1],
    // Within the safe range a long stays the number it always was.
    small: 2 ** 50,
  });
});
