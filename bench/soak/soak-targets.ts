import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';

/** What a soak writes under its namespace `ns`, and the clients it writes with. */
export interface SoakTargets {
  ns: string;
  redis: Redis;
  mongo: MongoClient;
  admin: pg.Pool;
  capture: Capture | undefined;
  log: (line: string) => void;
}

/** Drops the soak's MongoDB database, PostgreSQL schema and Redis keys, then closes the clients. */
export async function removeSoakTargets(targets: SoakTargets): Promise<void> {
  const { ns, redis, mongo, admin, capture, log } = targets;
  await mongo
    .db(ns)
    .dropDatabase()
    .catch(() => undefined);
  await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(ns)} CASCADE`).catch(() => {
    log(`could not drop the PostgreSQL schema ${ns}`);
  });
  await capture?.close();
  await deleteUnder(redis, `${ns}:*`);
  await redis.quit();
  await mongo.close();
  await admin.end();
}
