import type { Keys } from '../../runtime/keys.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { Sink } from '../../runtime/sink/sink.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { SinkRunnerOptions } from '../../runtime/sink/sink-runner-options.ts';
import { testRedisOptions } from '../helpers/redis.ts';

/** Runner timings short enough for tests (see startTestRunner). */
export const TEST_RUNNER_TIMINGS = {
  blockMs: 100,
  leaseMs: 1500,
  housekeepingMs: 100,
  retry: { initialMs: 20, maxMs: 200 },
} as const satisfies Partial<SinkRunnerOptions>;

/**
 * Starts a runner with timings short enough for tests: reads block 100 ms, leases expire after
 * 1.5 s, operator requests are seen within 100 ms, retries start at 20 ms; `options` override.
 */
export async function startTestRunner(
  sink: Sink,
  prefix: string,
  consumer = `${sink.name}-1`,
  options: Partial<SinkRunnerOptions> = {},
): Promise<SinkRunner> {
  const runner = new SinkRunner({
    sink,
    redis: testRedisOptions(),
    prefix,
    consumer,
    ...TEST_RUNNER_TIMINGS,
    ...options,
  });
  await runner.start();
  return runner;
}

/** Appends an upsert entry whose Avro payload cannot be decoded (a poison event). */
export async function appendUndecodable(
  redis: RedisClient,
  keys: Keys,
  entity: string,
  partition: number,
  key: string,
  schemaId: number,
): Promise<void> {
  await redis.xadd(
    keys.stream(entity, partition),
    '*',
    'op',
    'u',
    'entity',
    entity,
    'key',
    key,
    'ts',
    String(Date.now()),
    'sid',
    String(schemaId),
    'data',
    Buffer.from([0xff, 0xff, 0xff]),
  );
}
