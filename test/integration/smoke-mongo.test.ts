import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestMongo } from '../helpers/mongo.ts';

interface Todo {
  _id: string;
  name: string;
  version: number;
}

describe('mongo smoke', { timeout: 60_000 }, () => {
  test('an upserting bulkWrite updates an existing document and inserts a missing one', async () => {
    // Made inside the test, not in a before hook: Node 20 reports a failed hook as cancelled
    // tests rather than failed ones, and an unreachable server must count as a failure.
    const t = await createTestMongo('smoke_mongo');
    try {
      const todos = t.db.collection<Todo>('todo');
      await todos.insertOne({ _id: 'a', name: 'first', version: 1 });

      const result = await todos.bulkWrite(
        [
          {
            updateOne: {
              filter: { _id: 'a' },
              update: { $set: { name: 'second' }, $inc: { version: 1 } },
              upsert: true,
            },
          },
          {
            updateOne: {
              filter: { _id: 'b' },
              update: { $set: { name: 'new' }, $inc: { version: 1 } },
              upsert: true,
            },
          },
        ],
        { ordered: true },
      );

      assert.equal(result.matchedCount, 1);
      assert.equal(result.modifiedCount, 1);
      assert.equal(result.upsertedCount, 1);
      assert.deepEqual(result.upsertedIds, { 1: 'b' });

      const docs = await todos.find().sort({ _id: 1 }).toArray();
      assert.deepEqual(docs, [
        { _id: 'a', name: 'second', version: 2 },
        { _id: 'b', name: 'new', version: 1 },
      ]);
    } finally {
      await t.cleanup();
    }
  });
});
