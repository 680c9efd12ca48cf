import { createServer, type Server } from 'node:http';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Env, envInteger, envOptional, envString, redisFromEnv } from '../config/env.ts';
import { Instrumentation } from '../instrumentation/instrumentation.ts';
import type { RetentionPolicy } from '../retention/retention-policy.ts';
import { redisProbe } from '../service/redis-probe.ts';
import { ServiceStartError } from '../service/service-start-error.ts';
import { portInUse } from '../service/start-failure.ts';
import { startupRetryFromEnv } from '../service/startup-retry.ts';
import { reasonOf, waitForServer } from '../service/wait-for-server.ts';
import { isTransientFailure } from './runner/error-policy.ts';
import type { Sink } from './sink.ts';
import { registerSinkMetrics } from './sink-metrics.ts';
import { SinkRunner } from './sink-runner.ts';
import { sinkSourceFromEnv } from './source/sink-source-env.ts';

/** A sink's target as a start failure names it. */
export interface SinkTarget {
  /** What and where, without credentials, e.g. `PostgreSQL at postgres://cdc@127.0.0.1:5432/cdc`. */
  readonly where: string;
  /** What to check when it stays unreachable, e.g. `check POSTGRES_URL and that PostgreSQL is up`. */
  readonly hint: string;
}

/** The logger of a sink service, by its sink's name: also the one its start failures go to. */
export function sinkServiceLogger(name: string, env: Env): Logger {
  return pino({ name: `sink-${name}`, level: envString(env, 'LOG_LEVEL', 'info') });
}

/**
 * The main of every sink service: runner options from the environment, `/metrics` and
 * `/healthz` on SINK_METRICS_PORT (0 = off), graceful stop on SIGTERM/SIGINT. Redis and the
 * target are waited for at start (STARTUP_ATTEMPTS, STARTUP_RETRY_MAX_MS), a log line per
 * attempt; what cannot start is thrown as a ServiceStartError for `runServiceMain`.
 *
 * Environment: REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*), CDC_PREFIX,
 * SINK_ENTITIES (comma list; default all), SINK_CONSUMER, SINK_BATCH_SIZE, SINK_BLOCK_MS,
 * SINK_LEASE_MS, SINK_MAX_DELIVERIES, SINK_METRICS_HOST, SINK_METRICS_PORT, STARTUP_ATTEMPTS,
 * STARTUP_RETRY_MAX_MS, SINK_RETENTION_INTERVAL_MS (how often owned partitions are trimmed by
 * their entity's retention policy, default 30 000, 0 off), LOG_LEVEL; SINK_SOURCE (`streams`, or `kafka` with KAFKA_BROKERS and
 * SINK_KAFKA_TOPICS: see source/sink-source-env.ts).
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
    /** Default: `sinkServiceLogger(sink.name, env)`. */
    logger?: Logger;
    /** Names the target in a start failure. Default: "the <name> sink's target". */
    target?: SinkTarget;
    /** The entities' retention policies (ProjectConfig.retention). Default: the default policy. */
    retention?: Record<string, RetentionPolicy>;
  } = {},
): Promise<SinkRunner> {
  const logger = options.logger ?? sinkServiceLogger(sink.name, env);
  const startup = startupRetryFromEnv(env);
  const instrumentation = options.instrumentation ?? new Instrumentation();
  const registry = options.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  registerSinkMetrics(instrumentation, registry);
  const entities = envOptional(env, 'SINK_ENTITIES')
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const consumer = envOptional(env, 'SINK_CONSUMER');
  const redis = redisFromEnv(env);
  // Started before Redis (containers in any order): wait for it, a line per attempt.
  await waitForServer(redisProbe(redis), startup, logger);
  const runner = new SinkRunner({
    sink,
    redis,
    prefix: options.prefix ?? envString(env, 'CDC_PREFIX', 'cdc'),
    ...(entities ? { entities } : {}),
    ...(consumer ? { consumer } : {}),
    batchSize: envInteger(env, 'SINK_BATCH_SIZE', 1000, 1),
    blockMs: envInteger(env, 'SINK_BLOCK_MS', 1000, 1),
    leaseMs: envInteger(env, 'SINK_LEASE_MS', 10_000, 500),
    maxDeliveries: envInteger(env, 'SINK_MAX_DELIVERIES', 5, 1),
    source: sinkSourceFromEnv(env, sink.name),
    startAttempts: startup.attempts,
    retention: {
      intervalMs: envInteger(env, 'SINK_RETENTION_INTERVAL_MS', 30_000, 0),
      ...(options.retention ? { policies: options.retention } : {}),
    },
    instrumentation,
    logger,
  });
  const port = envInteger(env, 'SINK_METRICS_PORT', 0);
  const host = envString(env, 'SINK_METRICS_HOST', '127.0.0.1');
  try {
    await runner.start();
  } catch (error) {
    if (!isTransientFailure(sink, error)) throw error;
    const target = options.target ?? {
      where: `the ${sink.name} sink's target`,
      hint: 'check its address and that it is up',
    };
    throw new ServiceStartError(
      'unreachable',
      `${target.where} is still unreachable after ${startup.attempts} attempts ` +
        `(${reasonOf(error)}): ${target.hint}`,
      error,
    );
  }
  logger.info({ sink: sink.name }, 'sink started');

  const server =
    port > 0
      ? await listen(
          createServer((req, res) => {
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
          }),
          port,
          host,
        ).catch(async (error: unknown) => {
          await runner.stop();
          throw portInUse(error, 'SINK_METRICS_PORT') ?? error;
        })
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

/** Listens, resolving once listening and rejecting with the listen error (a port in use). */
function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
