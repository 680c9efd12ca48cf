/**
 * One readiness probe of one test server: exits 0 when it answers, 1 (with the reason on
 * stderr) when it does not. `scripts/servers.sh` runs it in a loop until its own deadline, so
 * every client here gets a short timeout and no retries of its own.
 *
 *   node --import tsx scripts/harness/ready.ts <redis|postgres|mongo|kafka>
 */

import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { redactUrl, testEnv } from '../../test/helpers/env.ts';

const CONNECT_TIMEOUT_MS = 2_000;

type Probe = () => Promise<void>;

const probes: Record<string, Probe> = {
  async redis() {
    const redis = new Redis(testEnv.redisUrl, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // Without a listener ioredis prints every connection error as "Unhandled error event";
    // keep the first one instead, since it says more than the "Connection is closed" that follows.
    let connectionError: Error | undefined;
    redis.on('error', (error: Error) => {
      connectionError ??= error;
    });
    try {
      await redis.connect().catch((error: unknown) => {
        throw connectionError ?? error;
      });
      const reply = await redis.ping();
      if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
    } finally {
      redis.disconnect();
    }
  },

  async postgres() {
    const client = new pg.Client({
      connectionString: testEnv.postgresUrl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  },

  async mongo() {
    const client = new MongoClient(testEnv.mongoUrl, {
      serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
      connectTimeoutMS: CONNECT_TIMEOUT_MS,
    });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close().catch(() => undefined);
    }
  },

  async kafka() {
    const kafka = new Kafka({
      clientId: 'harness-ready',
      brokers: testEnv.kafkaBrokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
};

const targets: Record<string, string> = {
  redis: redactUrl(testEnv.redisUrl),
  postgres: redactUrl(testEnv.postgresUrl),
  mongo: redactUrl(testEnv.mongoUrl),
  kafka: testEnv.kafkaBrokers.join(','),
};

const name = process.argv[2] ?? '';
const probe = probes[name];
if (!probe) {
  console.error(`usage: ready.ts <${Object.keys(probes).join('|')}>`);
  process.exit(2);
}

try {
  await probe();
  process.exit(0);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`${name} at ${targets[name]} is not ready: ${reason}`);
  // Exit explicitly: a client that failed half-way may still hold a timer or socket open.
  process.exit(1);
}
