import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { SinkRunnerOptions } from '../../runtime/sink/sink-runner-options.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedisClient, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from './capture-fixtures.ts';
import { sinkCaughtUp } from './caught-up.ts';
import { startTestRunner } from './test-runner.ts';

/**
 * A test's own Redis prefix, PostgreSQL schema and capture, with PostgreSQL sink runners started
 * in them and everything stopped and removed by `cleanup`.
 */
export interface PostgresSinkFixture {
  readonly redisCtx: TestRedis<RedisClient>;
  readonly pgCtx: TestPostgres;
  readonly prefix: string;
  readonly capture: Capture;
  /** Runners stopped by `cleanup`; push runners started another way. */
  readonly runners: SinkRunner[];
  /** Starts a PostgreSQL sink runner (test timings) writing into the test's schema. */
  startRunner(
    consumer: string,
    extra?: Partial<ConstructorParameters<typeof PostgresSink>[0]>,
    name?: string,
    runnerOptions?: Partial<SinkRunnerOptions>,
  ): Promise<SinkRunner>;
  /** A table's rows by their `id`. */
  rows(table: string): Promise<Map<string, Record<string, unknown>>>;
  /** Whether the sink has applied everything in every partition of the entity. */
  appliedAll(entity: string, sink?: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

export async function createPostgresSinkFixture(
  label: string,
  entities: string[],
  partitions: number,
): Promise<PostgresSinkFixture> {
  const redisCtx = await createTestRedisClient(label);
  const prefix = redisCtx.capturePrefix;
  const pgCtx = await createTestPostgres(label);
  const capture = await createTestCapture(prefix, entities, partitions);
  const runners: SinkRunner[] = [];
  return {
    redisCtx,
    pgCtx,
    prefix,
    capture,
    runners,
    async startRunner(consumer, extra = {}, name = 'postgres', runnerOptions = {}) {
      const runner = await startTestRunner(
        new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema, name, ...extra }),
        prefix,
        consumer,
        runnerOptions,
      );
      runners.push(runner);
      return runner;
    },
    async rows(table) {
      const { rows } = await pgCtx.pool.query(
        `SELECT * FROM ${pg.escapeIdentifier(pgCtx.schema)}.${pg.escapeIdentifier(table)}`,
      );
      return new Map(rows.map((r: Record<string, unknown>) => [String(r.id), r]));
    },
    appliedAll: (entity, sink = 'postgres') =>
      sinkCaughtUp(redisCtx.redis, capture.keys, entity, partitions, sink),
    async cleanup() {
      for (const r of runners) await r.stop().catch(() => undefined);
      await capture.close();
      await redisCtx.cleanup();
      await pgCtx.cleanup();
    },
  };
}
