import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import {
  type AnyBulkWriteOperation,
  type BulkWriteResult,
  type Collection,
  type Document,
  Double,
  Long,
  MongoBulkWriteError,
  MongoServerError,
  type UpdateResult,
} from 'mongodb';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { createTestMongo } from '../helpers/mongo.ts';

/**
 * The harness's MongoDB stand-in (mongo-java-server) used to scan the whole collection for any
 * filter other than a lone `_id`, so the MongoDB sink's version-guarded writes cost time
 * proportional to the collection and the sink fell behind under load. Its launcher now answers a
 * filter holding a plain `_id` equality from the `_id` index, as MongoDB does. These tests run
 * against the server the other tests use (`MONGO_URL`); on real MongoDB they hold as well.
 */

const DUPLICATE_KEY = 11000;

type Id = string | number | Long | Double;

/**
 * A filter or document typed as a plain Document: the driver's default collection type says
 * `_id` is an ObjectId, and these tests use every other type.
 */
const doc = (fields: Document): Document => fields;
const byId = (id: Id): Document => ({ _id: id });

/** The MongoDB sink's guard (mongo-sink.ts `versionGuard`), with the `_id` condition given. */
function guard(id: Id | Document, version: string): Document {
  return { _id: id, $or: [{ _v: { $lt: version } }, { _v: { $exists: false } }] };
}

function guardedReplace(
  id: Id | Document,
  version: string,
  fields: Document = {},
): AnyBulkWriteOperation {
  return {
    replaceOne: {
      filter: guard(id, version),
      replacement: { _v: version, _deleted: false, ...fields },
      upsert: true,
    },
  };
}

const v = (ms: number): string => encodeVersion(`${ms}-0`);

/** Inserts `count` documents `k<n>` at version 1, in chunks. */
async function seed(collection: Collection, count: number): Promise<void> {
  const chunk = 10_000;
  for (let start = 0; start < count; start += chunk) {
    const documents: Document[] = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      documents.push({ _id: `k${i}`, _v: v(1), _deleted: false, name: `todo ${i}` });
    }
    await collection.insertMany(documents, { ordered: false });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * What a write or a read answered, in a form two collections can be compared by: the counts and
 * upserted ids, or the code of every write error.
 */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    const result = await run();
    if (isBulkWriteResult(result)) {
      return {
        matched: result.matchedCount,
        modified: result.modifiedCount,
        upserted: result.upsertedCount,
        ids: result.upsertedIds,
      };
    }
    if (isUpdateResult(result)) {
      return {
        matched: result.matchedCount,
        modified: result.modifiedCount,
        upserted: result.upsertedCount,
        ids: result.upsertedId === null ? {} : { 0: result.upsertedId },
      };
    }
    return { result };
  } catch (error) {
    if (error instanceof MongoBulkWriteError) {
      return {
        errors: [error.writeErrors].flat().map((w) => ({ index: w.index, code: w.code })),
        matched: error.result.matchedCount,
        modified: error.result.modifiedCount,
        upserted: error.result.upsertedCount,
      };
    }
    if (error instanceof MongoServerError) return { error: error.code };
    throw error;
  }
}

function isBulkWriteResult(value: unknown): value is BulkWriteResult {
  return typeof value === 'object' && value !== null && 'upsertedIds' in value;
}

function isUpdateResult(value: unknown): value is UpdateResult {
  return typeof value === 'object' && value !== null && 'upsertedId' in value;
}

describe('the MongoDB stand-in looks a plain _id up in its index', { timeout: 300_000 }, () => {
  test("a guarded upsert's time does not grow with the collection (1,000 against 100,000 documents)", {
    timeout: 150_000,
  }, async (t) => {
    const mongo = await createTestMongo('id_lookup_scale');
    try {
      const small = mongo.db.collection('small');
      const large = mongo.db.collection('large');
      await seed(small, 1_000);
      await seed(large, 100_000);

      // Each round: guarded upserts of existing keys with a newer version (replaced) and of
      // missing keys (inserted), in one unordered bulk, as the sink sends them.
      const round = async (
        collection: Collection,
        size: number,
        r: number,
        writes: number,
        inserts: number,
      ): Promise<number> => {
        const version = v(10 + r);
        const operations: AnyBulkWriteOperation[] = [];
        for (let i = 0; i < writes; i++) {
          operations.push(guardedReplace(`k${(i * 197 + r) % size}`, version, { name: 'new' }));
        }
        for (let i = 0; i < inserts; i++) {
          operations.push(guardedReplace(`new-${r}-${i}`, version, { name: 'new' }));
        }
        const start = performance.now();
        const result = await collection.bulkWrite(operations, { ordered: false });
        const elapsed = performance.now() - start;
        assert.equal(result.modifiedCount, writes);
        assert.equal(result.upsertedCount, inserts);
        return elapsed / (writes + inserts);
      };

      // A short untimed round each warms the JIT on both paths; then rounds alternate which
      // collection goes first. Kept small so that a server that scans again fails on the test's
      // timeout within minutes (a scan of 100,000 documents took about 0.8 s per write).
      await round(small, 1_000, 0, 20, 5);
      await round(large, 100_000, 0, 20, 5);
      const perWrite = { small: [] as number[], large: [] as number[] };
      for (let r = 1; r <= 4; r++) {
        const sides = [
          async () => perWrite.small.push(await round(small, 1_000, r, 300, 60)),
          async () => perWrite.large.push(await round(large, 100_000, r, 300, 60)),
        ];
        for (const side of r % 2 === 1 ? sides : sides.reverse()) await side();
      }
      const ratio = median(perWrite.large) / median(perWrite.small);
      t.diagnostic(
        `ms per guarded upsert: 1,000 documents ${median(perWrite.small).toFixed(3)}, ` +
          `100,000 documents ${median(perWrite.large).toFixed(3)}, ratio ${ratio.toFixed(2)}`,
      );
      // With a scan, the large collection's writes were hundreds of times slower; "the same order
      // of magnitude", with room for a noisy shared machine.
      assert.ok(ratio < 8, `100,000 documents ${ratio.toFixed(1)}x slower per write than 1,000`);

      // The answer is still the guard's on the large collection: a stale write misses and gets
      // E11000, the stored document unchanged (k0 was last written by the untimed round).
      const stale = await outcome(() =>
        large.replaceOne(guard('k0', v(2)), { _v: v(2), name: 'stale' }, { upsert: true }),
      );
      assert.deepEqual(stale, { error: DUPLICATE_KEY });
      assert.deepEqual(await large.findOne(byId('k0')), {
        _id: 'k0',
        _v: v(10),
        _deleted: false,
        name: 'new',
      });
    } finally {
      await mongo.cleanup();
    }
  });

  test('a stale guarded upsert gets E11000 and changes nothing; a newer one replaces; a missing key is inserted', async () => {
    const mongo = await createTestMongo('id_lookup_guard');
    try {
      const todos = mongo.db.collection('todo');
      await seed(todos, 50);

      const newer = await outcome(() =>
        todos.replaceOne(guard('k1', v(5)), { _v: v(5), name: 'newer' }, { upsert: true }),
      );
      assert.deepEqual(newer, { matched: 1, modified: 1, upserted: 0, ids: {} });

      for (const version of [v(4), v(5)]) {
        const stale = await outcome(() =>
          todos.replaceOne(guard('k1', version), { _v: version, name: 'stale' }, { upsert: true }),
        );
        assert.deepEqual(stale, { error: DUPLICATE_KEY }, `version ${version}`);
      }
      assert.deepEqual(await todos.findOne(byId('k1')), { _id: 'k1', _v: v(5), name: 'newer' });

      const missing = await outcome(() =>
        todos.replaceOne(guard('k-new', v(3)), { _v: v(3), name: 'new' }, { upsert: true }),
      );
      assert.deepEqual(missing, { matched: 0, modified: 0, upserted: 1, ids: { 0: 'k-new' } });
      assert.deepEqual(await todos.findOne(byId('k-new')), {
        _id: 'k-new',
        _v: v(3),
        name: 'new',
      });
    } finally {
      await mongo.cleanup();
    }
  });

  test('guarded and unguarded writes and reads answer as the collection scan does, for string, int and long ids', async () => {
    const mongo = await createTestMongo('id_lookup_same');
    try {
      // The same steps on two collections: on `lookup` the _id condition is a plain value (the
      // index path); on `scan` it is `{ $eq: value }`, an operator document, which the stand-in
      // answers with the scan it has always used. Same filter, so the answers must be the same.
      const lookup = mongo.db.collection('lookup');
      const scan = mongo.db.collection('scan');
      const both = async (
        step: string,
        run: (collection: Collection, id: (value: Id) => Id | Document) => Promise<unknown>,
      ): Promise<unknown> => {
        const indexed = await outcome(() => run(lookup, (value) => value));
        const scanned = await outcome(() => run(scan, (value) => ({ $eq: value })));
        assert.deepEqual(indexed, scanned, step);
        return indexed;
      };
      for (const collection of [lookup, scan]) {
        await seed(collection, 200);
        // Stored as the driver writes the sink's keys: a string, an int32 for an int key, a
        // double for a long key beyond int32; and a BSON long, which other writers may store.
        await collection.insertMany([
          doc({ _id: 42, _v: v(1), name: 'int' }),
          doc({ _id: 2 ** 40 + 3, _v: v(1), name: 'long as double' }),
          doc({ _id: Long.fromNumber(77), _v: v(1), name: 'long' }),
          doc({ _id: Long.fromNumber(2 ** 45 + 1), _v: v(1), name: 'long big' }),
        ]);
      }

      // Every kind of id the sink writes, plus the same numbers in other BSON types: numbers equal
      // in value are one `_id` whatever their type.
      const ids: Array<[string, Id]> = [
        ['string', 'k7'],
        ['int', 42],
        ['int as long', Long.fromNumber(42)],
        ['int as double', new Double(42)],
        ['long beyond int32', 2 ** 40 + 3],
        ['long beyond int32 as long', Long.fromNumber(2 ** 40 + 3)],
        ['long', Long.fromNumber(77)],
        ['long as int', 77],
        ['long big as number', 2 ** 45 + 1],
        ['missing string', 'absent'],
        ['missing int', 9],
        ['missing long', Long.fromNumber(2 ** 41)],
      ];
      let version = 10;
      for (const [kind, id] of ids) {
        version += 10;
        const newer = v(version);
        const older = v(version - 5);
        const replace = (filter: Document, at: string): AnyBulkWriteOperation => ({
          replaceOne: { filter, replacement: { _v: at, name: `${kind} @${at}` }, upsert: true },
        });
        await both(`${kind}: find by the guard`, async (c, f) =>
          c.find(guard(f(id), newer)).toArray(),
        );
        await both(`${kind}: guarded upsert, newer`, (c, f) =>
          c.bulkWrite([replace(guard(f(id), newer), newer)], { ordered: false }),
        );
        await both(`${kind}: guarded upsert, same version`, (c, f) =>
          c.bulkWrite([replace(guard(f(id), newer), newer)], { ordered: false }),
        );
        await both(`${kind}: guarded upsert, older`, (c, f) =>
          c.bulkWrite([replace(guard(f(id), older), older)], { ordered: false }),
        );
        await both(`${kind}: guarded update of fields, as the offsets are written`, (c, f) =>
          c.updateOne(
            guard(f(id), v(version + 1)),
            { $set: { _v: v(version + 1), offset: `${version}-0` } },
            { upsert: true },
          ),
        );
        await both(`${kind}: tombstone`, (c, f) =>
          c.replaceOne(
            guard(f(id), v(version + 2)),
            { _v: v(version + 2), _deleted: true },
            { upsert: true },
          ),
        );
        await both(`${kind}: unguarded replace by _id alone`, (c, f) =>
          c.bulkWrite([replace({ _id: f(id) }, v(version + 3))], { ordered: false }),
        );
        await both(`${kind}: find by _id and another field`, (c, f) =>
          c.find(doc({ _id: f(id), _deleted: { $ne: true } })).toArray(),
        );
        await both(`${kind}: count by _id and another field`, (c, f) =>
          c.countDocuments(doc({ _id: f(id), name: { $exists: true } })),
        );
      }
      // The sink's bulk: many guarded upserts of distinct keys, some stale, in one unordered call.
      await both('a mixed bulk of guarded upserts', (c, f) =>
        c.bulkWrite(
          [
            guardedReplace(f('k1'), v(1)),
            guardedReplace(f('k2'), v(900)),
            guardedReplace(f('k3'), v(0)),
            guardedReplace(f('k-fresh'), v(900)),
          ],
          { ordered: false },
        ),
      );
      // Values the lookup leaves to the scan: null also matches a missing field.
      await both('find by a null _id and another field', (c) =>
        c.find(doc({ _id: null, _v: { $exists: true } })).toArray(),
      );

      const everything = (c: Collection): Promise<Document[]> =>
        c.find({}).sort({ _id: 1 }).toArray();
      assert.deepEqual(await everything(lookup), await everything(scan));
    } finally {
      await mongo.cleanup();
    }
  });
});
