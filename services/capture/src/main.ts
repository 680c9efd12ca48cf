import { pino } from 'pino';
import { createCapture } from '../../../runtime/capture/capture.ts';
import { resolveEntityOptions } from '../../../runtime/capture/capture-options.ts';
import { envInteger, envOptional, envString, redisFromEnv } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { resolveKafkaTopics } from '../../../runtime/kafka/kafka-topics.ts';
import { connectRedisClient, quietErrors } from '../../../runtime/redis-connection.ts';
import { redisProbe } from '../../../runtime/service/redis-probe.ts';
import { runServiceMain } from '../../../runtime/service/run-service-main.ts';
import { portInUse } from '../../../runtime/service/start-failure.ts';
import { startupRetryFromEnv } from '../../../runtime/service/startup-retry.ts';
import { waitForServer } from '../../../runtime/service/wait-for-server.ts';
import { buildCaptureServer } from './server.ts';

/**
 * The capture service. Environment: REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*),
 * CDC_CONFIG, CDC_PREFIX, SCHEMAS_DIR, CAPTURE_HOST (127.0.0.1), CAPTURE_PORT (8080),
 * CAPTURE_TOKEN (bearer token, or basic auth password; unset = no auth), CAPTURE_BODY_LIMIT
 * (bytes, 1 MiB), BRIDGE_NAME (the Kafka bridge's sink name, `kafka`: its project-file section
 * `sinks.<name>` names the topics, and so the registry API's subjects), STARTUP_ATTEMPTS and
 * STARTUP_RETRY_MAX_MS (how long to wait for Redis at start), CAPTURE_MONITOR_SAMPLE_MS (5000)
 * and CAPTURE_MONITOR_WINDOW_MS (60000) for the lag page at /dashboard, LOG_LEVEL. A start that fails ends
 * the process with one log line and a documented exit code (runtime/service).
 */
const env = process.env;
const logger = pino({
  name: 'capture',
  level: envString(env, 'LOG_LEVEL', 'info'),
  redact: ['req.headers.authorization'],
});

await runServiceMain(logger, async () => {
  const config = await loadProjectConfig(env);
  // Read here, as the bridge reads it: the registry API must name the topics the bridge writes to.
  const bridgeName = envString(env, 'BRIDGE_NAME', 'kafka');
  const kafkaTopics = resolveKafkaTopics(
    config.sinks[bridgeName],
    config.prefix,
    new Map(
      Object.entries(config.entities).map(([name, o]) => [name, resolveEntityOptions(name, o)]),
    ),
  );
  const token = envOptional(env, 'CAPTURE_TOKEN');
  const bodyLimit = envInteger(env, 'CAPTURE_BODY_LIMIT', 1024 * 1024, 1);
  const host = envString(env, 'CAPTURE_HOST', '127.0.0.1');
  const port = envInteger(env, 'CAPTURE_PORT', 8080);
  const redis = redisFromEnv(env);
  // Started before Redis (containers in any order): wait for it, a line per attempt.
  await waitForServer(redisProbe(redis), startupRetryFromEnv(env), logger);
  const capture = await createCapture({ redis, prefix: config.prefix, entities: config.entities });
  // The lag page reads what `cdc lag` reads, on one server or a cluster, over a connection of its
  // own so that its reads never queue behind writes.
  const monitorRedis = quietErrors(connectRedisClient(redis));
  const dashboard = {
    redis: monitorRedis,
    sampleMs: envInteger(env, 'CAPTURE_MONITOR_SAMPLE_MS', 5000, 100),
    windowMs: envInteger(env, 'CAPTURE_MONITOR_WINDOW_MS', 60_000, 200),
  };
  const server = buildCaptureServer(capture, {
    ...(token ? { token } : {}),
    kafkaTopics,
    bodyLimit,
    logger,
    dashboard,
  });
  try {
    await server.listen({ host, port });
  } catch (error) {
    await capture.close().catch(() => undefined);
    monitorRedis.disconnect();
    throw portInUse(error, 'CAPTURE_PORT') ?? error;
  }
  logger.info(
    { host, port, entities: capture.entityNames(), auth: Boolean(token) },
    'capture listening',
  );

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await server.close();
    await capture.close();
    monitorRedis.disconnect();
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
});
