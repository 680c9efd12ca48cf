import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runExampleProcess } from '../../examples/support/run-example.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';

const RUN_TIMEOUT_MS = 120_000;
/** The hash examples/users-write-through/run.ts writes. */
const PASSWORD_HASH = createHash('sha256').update('s3cret-password').digest('hex');

interface StoredUser {
  username: string;
  email: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  date_of_birth: string;
  date_of_birth_type: string;
  created_at: string;
  updated_at: string;
  version: string;
}

describe('example users-write-through (npm run example:users)', () => {
  let redis: TestRedis;
  let pg: TestPostgres;
  let env: Record<string, string>;

  before(async () => {
    redis = await createTestRedis('example_users');
    pg = await createTestPostgres('example_users');
    // Its own key prefix and schema: the sink keeps its offsets in <schema>.cdc_offsets, which
    // must never meet the offsets of another prefix's streams.
    env = { EXAMPLE_PREFIX: redis.capturePrefix, EXAMPLE_POSTGRES_SCHEMA: pg.schema };
  });

  after(async () => {
    await redis?.cleanup();
    await pg?.cleanup();
  });

  async function storedUser(): Promise<StoredUser | undefined> {
    const { rows } = await pg.pool.query<StoredUser>(
      `SELECT username, email, password_hash, first_name, last_name,
              date_of_birth::text AS date_of_birth,
              pg_typeof(date_of_birth)::text AS date_of_birth_type,
              created_at::text AS created_at, updated_at::text AS updated_at,
              _cdc_ms || '-' || _cdc_seq AS version
         FROM users WHERE id = 1`,
    );
    return rows[0];
  }

  test('exits 0; the row was committed before each answer; username is bar, the rest unchanged', {
    timeout: RUN_TIMEOUT_MS + 30_000,
  }, async () => {
    const run = await runExampleProcess('users-write-through', env, RUN_TIMEOUT_MS);
    assert.equal(run.code, 0, run.output);
    // The SELECT printed right after each write-through answer already shows that write.
    const [put, patch] = run.output.split('$ curl -X PATCH');
    assert.ok(put !== undefined && patch !== undefined, run.output);
    assert.match(
      put,
      /"mode":"through","appliedBy":\["postgres"\]\}\n[\s\S]*\nusername +\| john\n/,
    );
    assert.match(
      patch,
      /"mode":"through","appliedBy":\["postgres"\]\}\n[\s\S]*\nusername +\| bar\n/,
    );

    const { version: _, ...row } = (await storedUser()) ?? assert.fail(run.output);
    assert.deepEqual(row, {
      username: 'bar',
      email: 'john@gmail.com',
      password_hash: PASSWORD_HASH,
      first_name: 'John',
      last_name: 'Doe',
      date_of_birth: '1990-01-01',
      date_of_birth_type: 'date',
      created_at: '2023-04-20',
      updated_at: '2023-04-20',
    });

    const { rows: columns } = await pg.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'users' ORDER BY ordinal_position`,
      [pg.schema],
    );
    assert.deepEqual(
      columns.map((c) => `${c.column_name} ${c.data_type}`),
      [
        'id bigint',
        'username text',
        'email text',
        'password_hash text',
        'first_name text',
        'last_name text',
        'date_of_birth date',
        'created_at date',
        'updated_at date',
        '_cdc_ms bigint',
        '_cdc_seq bigint',
      ],
    );
  });

  test('a second run gives the same row, written by newer events', {
    timeout: RUN_TIMEOUT_MS + 30_000,
  }, async () => {
    const first = await storedUser();
    assert.ok(first, 'the first run left no row');
    const run = await runExampleProcess('users-write-through', env, RUN_TIMEOUT_MS);
    assert.equal(run.code, 0, run.output);
    const second = await storedUser();
    assert.ok(second);
    assert.ok(
      compareStreamIds(second.version, first.version) > 0,
      `version did not move: ${first.version} -> ${second.version}`,
    );
    assert.deepEqual({ ...second, version: first.version }, first);
    const { rows } = await pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM users');
    assert.equal(rows[0]?.n, '1');
  });
});
