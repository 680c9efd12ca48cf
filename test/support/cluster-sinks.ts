import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { schemaFile } from './capture-fixtures.ts';
import { type OwnRedisCluster, startOwnRedisCluster } from './own-redis-cluster.ts';
import { TEST_RUNNER_TIMINGS } from './test-runner.ts';

/**
 * A Redis Cluster of a test's own with capture (entity `todo`) and both sinks running on it, a
 * PostgreSQL and a MongoDB one, for the fault tests that move or kill its masters under load.
 */
export interface ClusterSinks {
  readonly cluster: OwnRedisCluster;
  readonly capture: Capture;
  readonly pg: TestPostgres;
  readonly mongo: TestMongo;
  /** `todo` rows in PostgreSQL: id -> name. */
  postgresNames(): Promise<Map<string, string>>;
  /** Live `todo` documents in MongoDB (tombstones left out): _id -> name. */
  mongoNames(): Promise<Map<string, string>>;
  /** Stops the runners and capture, drops the targets, stops the cluster. */
  close(): Promise<void>;
}

export async function startClusterSinks(
  label: string,
  partitions: number,
  nodeTimeoutMs: number,
): Promise<ClusterSinks> {
  const cluster = await startOwnRedisCluster(nodeTimeoutMs);
  const prefix = `${label}_${Date.now()}`;
  const redis = { clusterNodes: cluster.nodes };
  const capture = await createCapture({
    redis,
    prefix,
    entities: { todo: { schema: schemaFile('todo'), partitions } },
  });
  const pg = await createTestPostgres(label);
  const mongo = await createTestMongo(label);
  const runners = [
    new SinkRunner({
      sink: new PostgresSink({ url: testEnv.postgresUrl, schema: pg.schema }),
      redis,
      prefix,
      consumer: 'postgres-1',
      ...TEST_RUNNER_TIMINGS,
    }),
    new SinkRunner({
      sink: new MongoSink({ url: mongo.url }),
      redis,
      prefix,
      consumer: 'mongo-1',
      ...TEST_RUNNER_TIMINGS,
    }),
  ];
  const close = async (): Promise<void> => {
    for (const runner of runners) await runner.stop().catch(() => undefined);
    await capture.close();
    await pg.cleanup();
    await mongo.cleanup();
    await cluster.stop();
  };
  try {
    for (const runner of runners) await runner.start();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    cluster,
    capture,
    pg,
    mongo,
    async postgresNames() {
      const { rows } = await pg.pool.query<{ id: string; name: string }>(
        'SELECT id, name FROM todo',
      );
      return new Map(rows.map((r) => [r.id, r.name]));
    },
    async mongoNames() {
      const docs = await mongo.db
        .collection<{ _id: string; name: string }>('todo')
        .find({ _deleted: { $ne: true } })
        .toArray();
      return new Map(docs.map((d) => [d._id, d.name]));
    },
    close,
  };
}
