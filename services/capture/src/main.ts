import { pino } from 'pino';
import { createCapture } from '../../../runtime/capture/capture.ts';
import { envInteger, envOptional, envString, redisFromEnv } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { buildCaptureServer } from './server.ts';

/**
 * The capture service. Environment: REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*),
 * CDC_CONFIG, CDC_PREFIX, SCHEMAS_DIR, CAPTURE_HOST (127.0.0.1), CAPTURE_PORT (8080),
 * CAPTURE_TOKEN (bearer token; unset = no auth), CAPTURE_BODY_LIMIT (bytes, 1 MiB), LOG_LEVEL.
 */
const env = process.env;
const logger = pino({
  name: 'capture',
  level: envString(env, 'LOG_LEVEL', 'info'),
  redact: ['req.headers.authorization'],
});

const config = await loadProjectConfig(env);
const capture = await createCapture({
  redis: redisFromEnv(env),
  prefix: config.prefix,
  entities: config.entities,
});
const token = envOptional(env, 'CAPTURE_TOKEN');
const server = buildCaptureServer(capture, {
  ...(token ? { token } : {}),
  bodyLimit: envInteger(env, 'CAPTURE_BODY_LIMIT', 1024 * 1024, 1),
  logger,
});
const host = envString(env, 'CAPTURE_HOST', '127.0.0.1');
const port = envInteger(env, 'CAPTURE_PORT', 8080);
await server.listen({ host, port });
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
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
