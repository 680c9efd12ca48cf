import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestPostgres } from '../helpers/postgres.ts';

describe('postgres smoke', { timeout: 60_000 }, () => {
  test('INSERT ... ON CONFLICT DO UPDATE inserts a new key and updates an existing one', async () => {
    // Made inside the test, not in a before hook: Node 20 reports a failed hook as cancelled
    // tests rather than failed ones, and an unreachable server must count as a failure.
    const t = await createTestPostgres('smoke_pg');
    try {
      const { pool } = t;
      // Unqualified: the pool's search_path is the test's schema.
      await pool.query(
        'CREATE TABLE todo (id text PRIMARY KEY, name text NOT NULL, version int NOT NULL)',
      );

      const upsert = `
        INSERT INTO todo AS t (id, name, version) VALUES ($1, $2, 1)
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, version = t.version + 1
        RETURNING (xmax = 0) AS inserted, version`;

      const first = await pool.query<{ inserted: boolean; version: number }>(upsert, [
        'a',
        'first',
      ]);
      assert.deepEqual(first.rows, [{ inserted: true, version: 1 }]);

      const second = await pool.query<{ inserted: boolean; version: number }>(upsert, [
        'a',
        'second',
      ]);
      assert.deepEqual(second.rows, [{ inserted: false, version: 2 }]);

      const rows = await pool.query('SELECT id, name, version FROM todo ORDER BY id');
      assert.deepEqual(rows.rows, [{ id: 'a', name: 'second', version: 2 }]);

      const where = await pool.query<{ schema: string }>(
        `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'todo'
          AND table_schema = $1`,
        [t.schema],
      );
      assert.equal(where.rowCount, 1, 'the table lives in the test schema');
    } finally {
      await t.cleanup();
    }
  });
});
