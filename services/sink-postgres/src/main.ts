import { envOptional, envString } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { runServiceMain } from '../../../runtime/service/run-service-main.ts';
import { runSinkService, sinkServiceLogger } from '../../../runtime/sink/run-sink-service.ts';
import { withoutPassword } from './login-refusal.ts';
import { PostgresSink, type PostgresSinkOptions } from './postgres-sink.ts';

/**
 * The PostgreSQL sink service. Environment: POSTGRES_URL, SINK_NAME (default `postgres`),
 * POSTGRES_SCHEMA, CDC_CONFIG (its `sinks.<name>` section: PostgresSinkOptions such as `tables`),
 * plus the runner's variables (see runtime/sink/run-sink-service.ts). A start that fails ends
 * the process with one log line and a documented exit code (runtime/service).
 */
const env = process.env;
const name = envString(env, 'SINK_NAME', 'postgres');
const logger = sinkServiceLogger(name, env);
await runServiceMain(logger, async () => {
  const config = await loadProjectConfig(env);
  const section = (config.sinks[name] ?? {}) as Partial<PostgresSinkOptions>;
  const schema = envOptional(env, 'POSTGRES_SCHEMA') ?? section.schema;
  const url = envString(
    env,
    'POSTGRES_URL',
    section.url ?? 'postgres://cdc:cdc@127.0.0.1:5432/cdc',
  );
  const sink = new PostgresSink({ ...section, url, name, ...(schema ? { schema } : {}) });
  await runSinkService(sink, env, {
    prefix: config.prefix,
    ...(config.retention ? { retention: config.retention } : {}),
    logger,
    target: {
      where: `PostgreSQL at ${withoutPassword(url)}`,
      hint: 'check POSTGRES_URL and that PostgreSQL is up',
    },
  });
});
