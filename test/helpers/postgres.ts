import pg from 'pg';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

export interface TestPostgres {
  /** Pool whose connections use `schema` as their search_path. */
  readonly pool: pg.Pool;
  /** A schema made for this test, dropped by `cleanup`. */
  readonly schema: string;
  /** The server URL (`POSTGRES_URL`), without the schema. */
  readonly url: string;
  /** Drops the schema with everything in it and closes the pool. */
  cleanup(): Promise<void>;
}

/** Short enough that a stopped server fails a test quickly, long enough for a busy CI machine. */
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * Connection settings whose sessions resolve unqualified names in `schema`, for a
 * `pg.Client` or `pg.Pool` the code under test creates itself.
 */
export function schemaClientConfig(schema: string, url = testEnv.postgresUrl): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Sent in the startup packet, so every connection of a pool gets it without a query.
    options: `-c search_path=${schema}`,
  };
}

/** Creates a fresh schema on the test PostgreSQL and a pool that works inside it. */
export async function createTestPostgres(label = 'pg'): Promise<TestPostgres> {
  const schema = uniqueNamespace(label);
  const url = testEnv.postgresUrl;
  const pool = new pg.Pool({ ...schemaClientConfig(schema, url), max: 4 });
  // An idle client that errors (server restarted) must not crash the test process.
  pool.on('error', () => undefined);
  try {
    await pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachableError('postgres', url, error);
  }

  return {
    pool,
    schema,
    url,
    async cleanup() {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}
