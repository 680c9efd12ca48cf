import { type Db, MongoClient } from 'mongodb';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

export interface TestMongo {
  readonly client: MongoClient;
  /** A database made for this test, dropped by `cleanup`. */
  readonly db: Db;
  readonly dbName: string;
  /** The test server's URL with this database as its default (what a sink is configured with). */
  readonly url: string;
  /** Drops the database and closes the client. */
  cleanup(): Promise<void>;
}

/** Server selection otherwise waits 30 s before a stopped server fails the test. */
const TIMEOUT_MS = 3_000;

/** Connects to the test MongoDB and picks a database of its own. */
export async function createTestMongo(label = 'mongo'): Promise<TestMongo> {
  const dbName = uniqueNamespace(label);
  const client = new MongoClient(testEnv.mongoUrl, {
    serverSelectionTimeoutMS: TIMEOUT_MS,
    connectTimeoutMS: TIMEOUT_MS,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw unreachableError('mongo', testEnv.mongoUrl, error);
  }
  const db = client.db(dbName);

  return {
    client,
    db,
    dbName,
    url: testEnv.mongoUrl.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${dbName}`),
    async cleanup() {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}
