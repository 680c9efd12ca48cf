import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { seeded } from '../../bench/support/numbers.ts';
import { PayloadError } from '../../runtime/errors/payload-error.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { type AvroSchema, fingerprintOf, parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import type { EntityTarget, PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { mapTable, type TableMapping } from '../../services/sink-postgres/src/table-mapping.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';

// The sink writes an upsert either by transcoding its payload into binary arrays or, when it
// cannot, from the decoded record as text arrays. Both must leave the same rows. Two sinks on
// two fresh schemas get the same events, one as payloads only and one as records only.

const P = 2;
const DAY_MS = 86_400_000;

// --- schemas ---------------------------------------------------------------------------------

const DATE = { type: 'int', logicalType: 'date' };
const TIMESTAMP = { type: 'long', logicalType: 'timestamp-millis' };

const EDGE_FIELDS = [
  { name: 'id', type: 'string' },
  { name: 's', type: 'string' },
  { name: 'ns', type: ['null', 'string'], default: null },
  { name: 'b', type: 'boolean' },
  { name: 'nb', type: ['null', 'boolean'], default: null },
  { name: 'l', type: 'long' },
  { name: 'nl', type: ['null', 'long'], default: null },
  { name: 'f', type: 'float' },
  { name: 'd', type: 'double' },
  { name: 'nd', type: ['null', 'double'], default: null },
  { name: 'by', type: 'bytes' },
  { name: 'nby', type: ['null', 'bytes'], default: null },
  { name: 'dt', type: DATE },
  { name: 'ndt', type: ['null', DATE], default: null },
  { name: 'ts', type: TIMESTAMP },
  { name: 'nts', type: ['null', TIMESTAMP], default: null },
];

/** v1 writes `i` as an int and has a field v2 dropped. */
const EDGE_V1 = {
  type: 'record',
  name: 'Edge',
  fields: [
    ...EDGE_FIELDS,
    { name: 'i', type: 'int' },
    { name: 'ni', type: ['null', 'int'], default: null },
    { name: 'legacy', type: 'string' },
  ],
};

/** v2 (the reader) reads `i` as a long and adds fields with defaults. */
const EDGE_V2 = {
  type: 'record',
  name: 'Edge',
  fields: [
    ...EDGE_FIELDS,
    { name: 'i', type: 'long' },
    { name: 'ni', type: ['null', 'long'], default: null },
    { name: 'added', type: ['null', 'string'], default: null },
    { name: 'rank', type: 'int', default: 42 },
  ],
};

/** A schema as the registry keeps it (exported with its attributes, a registry-wide id). */
function registered(id: number, entity: string, schema: AvroSchema): RegisteredSchema {
  const type = parseSchema(schema);
  const json = JSON.stringify(type.schema({ exportAttrs: true }));
  return { id, entity, version: id, fingerprint: fingerprintOf(type), schema: json, type };
}

const edgeV1 = registered(1, 'edge', EDGE_V1 as AvroSchema);
const edgeV2 = registered(2, 'edge', EDGE_V2 as AvroSchema);
const user = registered(
  3,
  'user',
  JSON.parse(
    readFileSync(new URL('../../schemas/user.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema,
);
const READERS: Record<string, RegisteredSchema> = { edge: edgeV2, user };
const targets: EntityTarget[] = [
  { entity: 'edge', schema: edgeV2, keyField: 'id' },
  { entity: 'user', schema: user, keyField: 'id' },
];
const mappings = new Map(targets.map((t) => [t.entity, mapTable(t, undefined, 'public')]));

// --- seeded events ---------------------------------------------------------------------------

const random = seeded(0x7c0de);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (low: number, high: number): number =>
  low + Math.floor(random() * (high - low + 1));
/** An edge value half the time, else a random one. */
const edgeOr = <T>(edges: readonly T[], make: () => T): T =>
  random() < 0.5 ? pick(edges) : make();

const STRINGS = [
  '',
  'plain',
  'NULL',
  `quote ' " \\ , { } ( ) NULL`,
  'tab\tnewline\ncr\r',
  'üñíçødé',
  '日本語テキスト',
  '😀',
  '👍🏽 👨‍👩‍👧 🏳️‍🌈',
  `long ${'é😀x'.repeat(2000)}`,
];
const randomString = (): string =>
  Array.from({ length: between(0, 30) }, () =>
    String.fromCodePoint(
      pick([between(0x20, 0x7e), between(0xa0, 0xd7ff), between(0x1f300, 0x1faff)]),
    ),
  ).join('');
const BYTES = [
  Buffer.alloc(0),
  Buffer.from([0]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\\x00 "{}"'),
];
const randomBytes = (): Buffer =>
  Buffer.from(Array.from({ length: between(0, 80) }, () => between(0, 255)));
const INTS = [0, -1, 2 ** 31 - 1, -(2 ** 31)];
// Longs stay within [-2^52, 2^52-1]: the transcoder refuses larger ones (see the unit test).
const LONGS = [0, -1, -(2 ** 52), 2 ** 52 - 1, -(2 ** 31) - 1, 2 ** 32];
const randomLong = (): number => Math.floor((random() - 0.5) * 2 ** between(1, 53));
// No -0: node-postgres sends a number's String(), and String(-0) is "0", so only the binary path
// could keep the sign.
const FLOATS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  3.4028234663852886e38,
  1.401298464324817e-45,
  0.1,
  -2.5,
];
const DOUBLES = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -0.1,
  1e300,
];
// Years 0001..9999: what JavaScript ISO strings and PostgreSQL's text input share. Dates are
// given as day counts: the project's date type refuses ISO strings of years 0000..0099.
const FIRST_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');
const DATES = ['1900-01-01', '1969-12-31', '1582-10-04', '0100-03-01', '2000-02-29', '9999-12-31']
  .map((iso) => Date.parse(`${iso}T00:00:00.000Z`) / DAY_MS)
  .concat(FIRST_MS / DAY_MS);
const randomDate = (): number => between(FIRST_MS / DAY_MS, Math.floor(LAST_MS / DAY_MS));
const TIMESTAMPS = [
  '1900-01-01T00:00:00.000Z',
  '2200-12-31T23:59:59.999Z',
  '1969-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00.000Z',
  '0001-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
];
const randomTimestamp = (): string => new Date(between(FIRST_MS, LAST_MS)).toISOString();
const orNull = <T>(value: () => T): T | null => (random() < 0.3 ? null : value());

function edgeRecord(key: string, writer: RegisteredSchema): Record<string, unknown> {
  const i = edgeOr(INTS, () => between(-(2 ** 31), 2 ** 31 - 1));
  return {
    id: key,
    s: edgeOr(STRINGS, randomString),
    ns: orNull(() => edgeOr(STRINGS, randomString)),
    b: random() < 0.5,
    nb: orNull(() => random() < 0.5),
    // v2 reads i as a long, so its writers may go beyond the int range.
    i: writer === edgeV2 && random() < 0.3 ? edgeOr(LONGS, randomLong) : i,
    ni: orNull(() => edgeOr(INTS, () => between(-1000, 1000))),
    l: edgeOr(LONGS, randomLong),
    nl: orNull(() => edgeOr(LONGS, randomLong)),
    f: edgeOr(FLOATS, () => Math.fround((random() - 0.5) * 10 ** between(-30, 30))),
    d: edgeOr(DOUBLES, () => (random() - 0.5) * 10 ** between(-300, 300)),
    nd: orNull(() => edgeOr(DOUBLES, () => random())),
    by: edgeOr(BYTES, randomBytes),
    nby: orNull(() => edgeOr(BYTES, randomBytes)),
    dt: edgeOr(DATES, randomDate),
    ndt: orNull(() => edgeOr(DATES, randomDate)),
    ts: edgeOr(TIMESTAMPS, randomTimestamp),
    nts: orNull(() => edgeOr(TIMESTAMPS, randomTimestamp)),
    ...(writer === edgeV1
      ? { legacy: edgeOr(STRINGS, randomString) }
      : {
          added: orNull(() => edgeOr(STRINGS, randomString)),
          rank: edgeOr(INTS, () => between(0, 99)),
        }),
  };
}

function userRecord(key: string): Record<string, unknown> {
  return {
    id: Number(key),
    username: edgeOr(STRINGS, randomString),
    email: `${randomString()}@example.com`,
    password_hash: edgeOr(STRINGS, randomString),
    first_name: orNull(() => edgeOr(STRINGS, randomString)),
    last_name: orNull(() => edgeOr(STRINGS, randomString)),
    date_of_birth: orNull(() => edgeOr(DATES, randomDate)),
    created_at: edgeOr(TIMESTAMPS, randomTimestamp),
    updated_at: edgeOr(TIMESTAMPS, randomTimestamp),
  };
}

const EDGE_KEYS = [...Array.from({ length: 40 }, (_, i) => `k${i}`), 'ключ', '😀 key', 'a,b"c'];
const USER_KEYS = [...Array.from({ length: 20 }, (_, i) => String(i - 5)), String(2 ** 52 - 1)];

/** One change, from which each sink gets its own event object. */
interface Change {
  entity: string;
  partition: number;
  id: string;
  op: 'upsert' | 'delete';
  key: string;
  writer?: RegisteredSchema;
  payload?: Buffer;
}

/** Per entity and partition, the next stream sequence (ids increase, sometimes within one ms). */
const streamPositions = new Map<string, number>();
function nextId(entity: string, partition: number): string {
  const n = (streamPositions.get(`${entity}/${partition}`) ?? 0) + 1;
  streamPositions.set(`${entity}/${partition}`, n);
  return `${1_700_000_000_000 + Math.floor(n / 3)}-${n % 3}`;
}

function upsert(entity: string, key: string, writer: RegisteredSchema, payload: Buffer): Change {
  const partition = partitionOf(key, P);
  return { entity, partition, id: nextId(entity, partition), op: 'upsert', key, writer, payload };
}

function remove(entity: string, key: string): Change {
  const partition = partitionOf(key, P);
  return { entity, partition, id: nextId(entity, partition), op: 'delete', key };
}

function randomChange(): Change {
  if (random() < 0.7) {
    const key = pick(EDGE_KEYS);
    if (random() < 0.1) return remove('edge', key);
    const writer = random() < 0.5 ? edgeV1 : edgeV2;
    return upsert('edge', key, writer, writer.type.toBuffer(edgeRecord(key, writer)));
  }
  const key = pick(USER_KEYS);
  if (random() < 0.1) return remove('user', key);
  return upsert('user', key, user, user.type.toBuffer(userRecord(key)));
}

/** The event as a transcoding sink must take it: payload and writer, no decoded record. */
function payloadEvent(change: Change): SinkEvent {
  const { entity, id, op, key, writer, payload } = change;
  return {
    entity,
    id,
    op,
    key,
    writer,
    payload,
    capturedAt: 1,
    // Reading it means the sink fell back to records: this test is about the other path.
    get record(): Record<string, unknown> | undefined {
      throw new Error(`the sink read the record of ${key} (${id}) instead of its payload`);
    },
  };
}

/** The record as the runtime decodes it (writer resolved to the reader). */
function decodedRecord(change: Change): Record<string, unknown> | undefined {
  if (change.op !== 'upsert') return undefined;
  const reader = READERS[change.entity]!;
  const resolver =
    change.writer === reader ? undefined : reader.type.createResolver(change.writer!.type);
  return reader.type.fromBuffer(change.payload!, resolver) as Record<string, unknown>;
}

/** The event as a sink without payloads gets it: the decoded record only. */
function recordEvent(change: Change): SinkEvent {
  const { entity, id, op, key } = change;
  return { entity, id, op, key, capturedAt: 1, record: decodedRecord(change) };
}

/** One batch per entity and partition with changes, in stream order, offset at the last one. */
function batchesOf(changes: readonly Change[], as: (c: Change) => SinkEvent): PartitionBatch[] {
  const batches = new Map<string, PartitionBatch>();
  for (const change of changes) {
    const slot = `${change.entity}/${change.partition}`;
    const batch = batches.get(slot) ?? {
      entity: change.entity,
      partition: change.partition,
      events: [],
      offset: change.id,
    };
    batch.events.push(as(change));
    batch.offset = change.id;
    batches.set(slot, batch);
  }
  return [...batches.values()];
}

// --- reading rows back -----------------------------------------------------------------------

/**
 * A SELECT list that renders every column exactly and independently of session settings:
 * floats as their bits, dates as days and timestamps as milliseconds since 1970, bytes as hex.
 */
function renderedColumns(m: TableMapping): string {
  const expressions = m.columns.map((c) => {
    const col = pg.escapeIdentifier(c.column);
    switch (c.sqlType) {
      case 'bytea':
        return `encode(${col}, 'hex')`;
      case 'bigint':
        return `${col}::text`;
      case 'real':
        return `encode(float4send(${col}), 'hex')`;
      case 'double precision':
        return `encode(float8send(${col}), 'hex')`;
      case 'date':
        return `${col} - date '1970-01-01'`;
      case 'timestamptz':
        return `(extract(epoch FROM ${col}) * 1000)::bigint::text`;
      default:
        return col;
    }
  });
  return [
    ...expressions.map((e, i) => `${e} AS ${pg.escapeIdentifier(m.columns[i]!.column)}`),
    '_cdc_ms::text AS _cdc_ms',
    '_cdc_seq::text AS _cdc_seq',
  ].join(', ');
}

/** The same rendering, in JavaScript, of a decoded record. */
function renderedRecord(m: TableMapping, record: Record<string, unknown>, id: string) {
  const row: Record<string, unknown> = {};
  for (const c of m.columns) {
    const value = record[c.field];
    if (value === null || value === undefined) {
      row[c.column] = null;
      continue;
    }
    const bits = (size: number, write: (b: Buffer) => void): string => {
      const b = Buffer.alloc(size);
      write(b);
      return b.toString('hex');
    };
    switch (c.sqlType) {
      case 'bytea':
        row[c.column] = (value as Buffer).toString('hex');
        break;
      case 'bigint':
        row[c.column] = String(value);
        break;
      case 'real':
        row[c.column] = bits(4, (b) => b.writeFloatBE(value as number));
        break;
      case 'double precision':
        row[c.column] = bits(8, (b) => b.writeDoubleBE(value as number));
        break;
      case 'date':
        row[c.column] = Date.parse(`${value as string}T00:00:00.000Z`) / DAY_MS;
        break;
      case 'timestamptz':
        row[c.column] = String(Date.parse(value as string));
        break;
      default:
        row[c.column] = value;
    }
  }
  const [ms, seq] = id.split('-');
  return { ...row, _cdc_ms: ms, _cdc_seq: seq };
}

async function rowsOf(db: TestPostgres, entity: string): Promise<Record<string, unknown>[]> {
  const m = mappings.get(entity)!;
  const { rows } = await db.pool.query(
    `SELECT ${renderedColumns(m)} FROM ${pg.escapeIdentifier(db.schema)}.${pg.escapeIdentifier(m.table)}
      ORDER BY ${pg.escapeIdentifier(m.key.column)}`,
  );
  return rows as Record<string, unknown>[];
}

async function offsetsOf(db: TestPostgres): Promise<string[]> {
  const { rows } = await db.pool.query<{ o: string }>(
    `SELECT sink || ' ' || entity || '/' || partition || ' ' || stream_id AS o
       FROM ${pg.escapeIdentifier(db.schema)}.cdc_offsets ORDER BY 1`,
  );
  return rows.map((r) => r.o);
}

/** Everything a transaction could have written: both tables and the offsets. */
async function snapshot(db: TestPostgres): Promise<unknown> {
  return {
    edge: await rowsOf(db, 'edge'),
    user: await rowsOf(db, 'user'),
    offsets: await offsetsOf(db),
  };
}

// --- tests -----------------------------------------------------------------------------------

describe('PostgreSQL sink: transcoded payloads and decoded records write the same rows', () => {
  let transcodedDb: TestPostgres;
  let decodedDb: TestPostgres;
  let transcoded: PostgresSink;
  let decoded: PostgresSink;

  before(async () => {
    transcodedDb = await createTestPostgres('transcoded');
    decodedDb = await createTestPostgres('decoded');
    transcoded = new PostgresSink({ url: transcodedDb.url, schema: transcodedDb.schema });
    decoded = new PostgresSink({ url: decodedDb.url, schema: decodedDb.schema });
    for (const sink of [transcoded, decoded]) {
      await sink.connect();
      await sink.ensureTargets(targets);
    }
  });

  after(async () => {
    await transcoded?.close();
    await decoded?.close();
    await transcodedDb?.cleanup();
    await decodedDb?.cleanup();
  });

  test('the same upserts and deletes, with edge values, leave identical rows with the expected values', async () => {
    const changes = Array.from({ length: 600 }, randomChange);
    // Rounds of 100 changes: later rounds update rows earlier ones inserted (the ON CONFLICT
    // branch), and keys repeat within a round (superseded events are checked, not written).
    for (let start = 0; start < changes.length; start += 100) {
      const round = changes.slice(start, start + 100);
      await transcoded.apply(batchesOf(round, payloadEvent));
      await decoded.apply(batchesOf(round, recordEvent));
    }

    // Expected: the last change of each key, as the decoder reads it.
    const last = new Map<string, Change>();
    for (const change of changes) last.set(`${change.entity}/${change.key}`, change);
    for (const entity of ['edge', 'user']) {
      const m = mappings.get(entity)!;
      const expected = [...last.values()]
        .filter((c) => c.entity === entity && c.op === 'upsert')
        .map((c) => renderedRecord(m, decodedRecord(c)!, c.id));
      const fromPayloads = await rowsOf(transcodedDb, entity);
      const fromRecords = await rowsOf(decodedDb, entity);
      assert.ok(fromPayloads.length > 10, `${entity}: enough rows to compare`);
      assert.deepEqual(fromPayloads, fromRecords, `${entity}: both paths wrote the same rows`);
      const byKey = (rows: Record<string, unknown>[]) =>
        new Map(rows.map((r) => [String(r[m.key.column]), r]));
      assert.deepEqual(
        byKey(fromPayloads),
        byKey(expected),
        `${entity}: rows hold the decoded values`,
      );
    }
    assert.deepEqual(
      (await offsetsOf(transcodedDb)).map((o) => o.split(' ').slice(1)),
      (await offsetsOf(decodedDb)).map((o) => o.split(' ').slice(1)),
    );

    // The edge values made it into the rows (so the comparison above covered them).
    const { rows: covered } = await transcodedDb.pool.query(
      `SELECT bool_or(ts < '1901-01-01') AS old_ts, bool_or(ts > '2200-01-01') AS new_ts,
              bool_or(dt < '1970-01-01') AS old_date, bool_or(l < 0) AS negative_long,
              bool_or(d = 'NaN') AS nan, bool_or(d = 'Infinity') AS inf, bool_or(s = '') AS empty,
              bool_or(s LIKE '%😀%') AS emoji, bool_or(ns IS NULL) AS null_string
         FROM ${pg.escapeIdentifier(transcodedDb.schema)}.edge`,
    );
    assert.deepEqual(Object.values(covered[0] as object), Array(9).fill(true));
  });

  /** A valid update, insert and delete of edge rows and an upsert of a user, plus `extra`. */
  async function batchAround(extra: Change[]): Promise<Change[]> {
    const [existing, other] = (await rowsOf(transcodedDb, 'edge')).map((r) => String(r.id));
    const fresh = `fresh-${random()}`;
    return [
      upsert('edge', existing!, edgeV2, edgeV2.type.toBuffer(edgeRecord(existing!, edgeV2))),
      upsert('edge', fresh, edgeV1, edgeV1.type.toBuffer(edgeRecord(fresh, edgeV1))),
      remove('edge', other!),
      upsert('user', '7', user, user.type.toBuffer(userRecord('7'))),
      ...extra,
    ];
  }

  /** A valid edge payload for `key`, and where its `ns` union index is. */
  function validPayload(key: string): { payload: Buffer; unionAt: number } {
    const record = { ...edgeRecord(key, edgeV2), s: 'x' };
    // id (length + bytes), then s: one length byte and one byte.
    return { payload: edgeV2.type.toBuffer(record), unionAt: 1 + Buffer.byteLength(key) + 2 };
  }

  const corruptions: Array<[string, (key: string) => Buffer]> = [
    ['truncated', (key) => validPayload(key).payload.subarray(0, -1)],
    ['with a trailing byte', (key) => Buffer.concat([validPayload(key).payload, Buffer.from([0])])],
    [
      'with a bad union index',
      (key) => {
        const { payload, unionAt } = validPayload(key);
        assert.ok(payload[unionAt] === 0 || payload[unionAt] === 2, 'a union index');
        const bad = Buffer.from(payload);
        bad[unionAt] = 0x04;
        return bad;
      },
    ],
  ];

  async function assertRejectsWithoutWriting(
    changes: Change[],
    key: string,
    what: string,
  ): Promise<void> {
    const before = await snapshot(transcodedDb);
    await assert.rejects(
      transcoded.apply(batchesOf(changes, payloadEvent)),
      // The error names the event, so the runtime can isolate it.
      (err: unknown) => err instanceof PayloadError && err.message.includes(`"${key}"`),
      what,
    );
    assert.deepEqual(
      await snapshot(transcodedDb),
      before,
      `${what}: the transaction wrote nothing`,
    );
  }

  test('a corrupt payload makes apply() reject with PayloadError and the transaction writes nothing', async () => {
    for (const [what, corrupt] of corruptions) {
      const changes = await batchAround([upsert('edge', 'corrupt', edgeV2, corrupt('corrupt'))]);
      await assertRejectsWithoutWriting(changes, 'corrupt', what);
    }
    // Control: without the corrupt event the same kind of batch does write.
    const before = await snapshot(transcodedDb);
    await transcoded.apply(batchesOf(await batchAround([]), payloadEvent));
    assert.notDeepEqual(await snapshot(transcodedDb), before);
  });

  test('a corrupt event superseded by a later event of its key in the same batch also rejects', async () => {
    for (const [what, corrupt] of corruptions) {
      for (const later of ['upsert', 'delete'] as const) {
        const key = `superseded-${later}`;
        const changes = await batchAround([
          upsert('edge', key, edgeV2, corrupt(key)),
          later === 'upsert'
            ? upsert('edge', key, edgeV2, validPayload(key).payload)
            : remove('edge', key),
        ]);
        await assertRejectsWithoutWriting(changes, key, `${what}, then ${later}`);
      }
    }
    // Control: the same sequence with a valid first event applies, the later event winning.
    const key = 'superseded-valid';
    const winner = validPayload(key).payload;
    const changes = await batchAround([
      upsert('edge', key, edgeV2, validPayload(key).payload),
      upsert('edge', key, edgeV1, edgeV1.type.toBuffer(edgeRecord(key, edgeV1))),
      upsert('edge', key, edgeV2, winner),
    ]);
    await transcoded.apply(batchesOf(changes, payloadEvent));
    const row = (await rowsOf(transcodedDb, 'edge')).find((r) => r.id === key);
    const m = mappings.get('edge')!;
    assert.deepEqual(
      row,
      renderedRecord(
        m,
        edgeV2.type.fromBuffer(winner) as Record<string, unknown>,
        changes.at(-1)!.id,
      ),
    );
  });

  test('a short string with a lone surrogate is written as the decoder reads it', async () => {
    const key = 'surrogate';
    const payload = edgeV2.type.toBuffer({ ...edgeRecord(key, edgeV2), s: 'a\ud800b' });
    const changes = [upsert('edge', key, edgeV2, payload)];
    await decoded.apply(batchesOf(changes, recordEvent));
    await transcoded.apply(batchesOf(changes, payloadEvent));
    const find = async (db: TestPostgres) => (await rowsOf(db, 'edge')).find((r) => r.id === key);
    assert.equal((await find(decodedDb))?.s, 'a\ufffd\ufffd\ufffdb');
    assert.deepEqual(await find(transcodedDb), await find(decodedDb));
  });
});
