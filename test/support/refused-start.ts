/**
 * A program that starts a sink runner whose sink refuses its targets (a ConfigError, as a bad
 * configuration gives), prints the refusal and returns without calling process.exit: it ends by
 * itself only if the failed start left no connection open. Run by runner-start-failure.test.ts.
 *
 * Environment: REDIS_URL or REDIS_CLUSTER_NODES, CDC_PREFIX (a test's own prefix, with a captured entity).
 */
import { ConfigError } from '../../runtime/errors/config-error.ts';
import type { EntityTarget, PartitionBatch, Sink } from '../../runtime/sink/sink.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { testRedisOptions } from '../helpers/redis.ts';

class RefusingSink implements Sink {
  readonly name = 'refusing';
  async connect(): Promise<void> {}
  async ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    throw new ConfigError(`cannot use ${targets.map((t) => t.entity).join(', ')}`);
  }
  async readOffsets(): Promise<Map<string, string>> {
    return new Map();
  }
  async apply(_batches: readonly PartitionBatch[]): Promise<void> {}
  isTransient(): boolean {
    return false;
  }
  async close(): Promise<void> {}
}

const runner = new SinkRunner({
  sink: new RefusingSink(),
  // The tests' Redis, a cluster when REDIS_CLUSTER_NODES is set, as the test's capture.
  redis: testRedisOptions(),
  prefix: process.env.CDC_PREFIX ?? 'cdc',
  consumer: 'refused-start',
});
await runner.start().then(
  () => console.log('started'),
  (err: unknown) => console.log(`refused: ${(err as Error).name}: ${(err as Error).message}`),
);
