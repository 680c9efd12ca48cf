import { envOptional, envString } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { runSinkService } from '../../../runtime/sink/run-sink-service.ts';
import { PostgresSink, type PostgresSinkOptions } from './postgres-sink.ts';

/**
 * The PostgreSQL sink service. Environment: POSTGRES_URL, SINK_NAME (default `postgres`),
 * POSTGRES_SCHEMA, CDC_CONFIG (its `sinks.<name>` section: PostgresSinkOptions such as `tables`),
 * plus the runner's variables (see runtime/sink/run-sink-service.ts).
 */
const env = process.env;
const config = await loadProjectConfig(env);
const name = envString(env, 'SINK_NAME', 'postgres');
const section = (config.sinks[name] ?? {}) as Partial<PostgresSinkOptions>;
const schema = envOptional(env, 'POSTGRES_SCHEMA') ?? section.schema;
const sink = new PostgresSink({
  ...section,
  url: envString(env, 'POSTGRES_URL', section.url ?? 'postgres://cdc:cdc@127.0.0.1:5432/cdc'),
  name,
  ...(schema ? { schema } : {}),
});
await runSinkService(sink, env, { prefix: config.prefix });
