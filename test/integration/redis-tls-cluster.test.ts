import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createCapture } from '../../runtime/capture/capture.ts';
import { redisFromEnv } from '../../runtime/config/env.ts';
import type { RedisConnectionOptions } from '../../runtime/redis-connection.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { startOwnRedisCluster } from '../support/own-redis-cluster.ts';
import { TEST_RUNNER_TIMINGS } from '../support/test-runner.ts';
import { makePki } from '../support/tls-pki.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * A Redis Cluster that speaks TLS only (clients, replication and the cluster bus; client
 * certificates required), configured as README says: `REDIS_CLUSTER_NODES=rediss://…` and the
 * same `REDIS_TLS_*` files as for one server. Capture writes through to a PostgreSQL sink whose
 * reads go over TLS to each partition's master, and whose announcements reach capture.
 */
describe('a Redis Cluster over TLS, configured like one server', { timeout: 120_000 }, () => {
  test('capture and a sink work over TLS only, with the environment variables of one server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cdc-tls-cluster-'));
    const pki = await makePki(dir);
    const cluster = await startOwnRedisCluster(2000, { tls: pki });
    const pgCtx = await createTestPostgres('tls_cluster');
    const prefix = `tls_cluster_${Date.now()}`;
    // What a service reads from its environment.
    const redis: RedisConnectionOptions = redisFromEnv({
      REDIS_CLUSTER_NODES: cluster.nodes
        .split(',')
        .map((node) => `rediss://${node}`)
        .join(','),
      REDIS_TLS_CA: pki.caFile,
      REDIS_TLS_CERT: pki.client.certFile,
      REDIS_TLS_KEY: pki.client.keyFile,
    });
    const capture = await createCapture({
      redis,
      prefix,
      entities: { todo: { schema: schemaFile('todo'), partitions: 8 } },
    });
    const runner = new SinkRunner({
      sink: new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      redis,
      prefix,
      consumer: 'postgres-1',
      ...TEST_RUNNER_TIMINGS,
    });
    try {
      await runner.start();
      const result = await capture.upsert(
        'todo',
        { id: 'through', name: 'over TLS' },
        { mode: 'through', timeoutMs: 20_000 },
      );
      assert.deepEqual(result.appliedBy, ['postgres']);
      for (let i = 0; i < 40; i++) await capture.upsert('todo', { id: `k${i}`, name: `v${i}` });
      await waitFor('every row applied', async () => {
        const { rows } = await pgCtx.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM todo',
        );
        return rows[0]?.n === 41;
      });
    } finally {
      await runner.stop().catch(() => undefined);
      await capture.close();
      await pgCtx.cleanup();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
