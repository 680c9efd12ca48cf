import { createServer } from 'node:http';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Env, envInteger, envOptional, envString, redisFromEnv } from '../config/env.ts';
import { Instrumentation } from '../instrumentation/instrumentation.ts';
import type { Sink } from './sink.ts';
import { registerSinkMetrics } from './sink-metrics.ts';
import { SinkRunner } from './sink-runner.ts';
import { sinkSourceFromEnv } from './source/sink-source-env.ts';

/**
 * The main of every sink service: runner options from the environment, `/metrics` and
 * `/healthz` on SINK_METRICS_PORT (0 = off), graceful stop on SIGTERM/SIGINT.
 *
 * Environment: REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*), CDC_PREFIX,
 * SINK_ENTITIES (comma list; default all), SINK_CONSUMER, SINK_BATCH_SIZE, SINK_BLOCK_MS,
 * SINK_LEASE_MS, SINK_MAX_DELIVERIES, SINK_METRICS_HOST, SINK_METRICS_PORT, LOG_LEVEL;
 * SINK_SOURCE (`streams`, or `kafka` with KAFKA_BROKERS and SINK_KAFKA_TOPICS: see
 * source/sink-source-env.ts).
 */
export async function runSinkService(
  sink: Sink,
  env: Env,
  options: {
    prefix?: string;
    /** Shared with the sink when it emits events of its own. Default: a new one. */
    instrumentation?: Instrumentation;
    /** Served on /metrics, with the sink's own metrics already registered. Default: a new one. */
    registry?: Registry;
  } = {},
): Promise<SinkRunner> {
  const logger = pino({ name: `sink-${sink.name}`, level: envString(env, 'LOG_LEVEL', 'info') });
  const instrumentation = options.instrumentation ?? new Instrumentation();
  const registry = options.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  registerSinkMetrics(instrumentation, registry);
  const entities = envOptional(env, 'SINK_ENTITIES')
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const consumer = envOptional(env, 'SINK_CONSUMER');
  const runner = new SinkRunner({
    sink,
    redis: redisFromEnv(env),
    prefix: options.prefix ?? envString(env, 'CDC_PREFIX', 'cdc'),
    ...(entities ? { entities } : {}),
    ...(consumer ? { consumer } : {}),
    batchSize: envInteger(env, 'SINK_BATCH_SIZE', 1000, 1),
    blockMs: envInteger(env, 'SINK_BLOCK_MS', 1000, 1),
    leaseMs: envInteger(env, 'SINK_LEASE_MS', 10_000, 500),
    maxDeliveries: envInteger(env, 'SINK_MAX_DELIVERIES', 5, 1),
    source: sinkSourceFromEnv(env, sink.name),
    instrumentation,
    logger,
  });
  await runner.start();
  logger.info({ sink: sink.name }, 'sink started');

  const port = envInteger(env, 'SINK_METRICS_PORT', 0);
  const server =
    port > 0
      ? createServer((req, res) => {
          if (req.url === '/metrics') {
            void registry.metrics().then((text) => {
              res.writeHead(200, { 'content-type': registry.contentType });
              res.end(text);
            });
          } else if (req.url === '/healthz') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ status: 'ok', partitions: runner.ownedPartitions() }));
          } else {
            res.writeHead(404).end();
          }
        }).listen(port, envString(env, 'SINK_METRICS_HOST', '127.0.0.1'))
      : undefined;

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping after the batch in flight');
    server?.close();
    await runner.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return runner;
}
