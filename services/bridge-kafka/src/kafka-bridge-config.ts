import { type Env, envString } from '../../../runtime/config/env.ts';
import type { ProjectConfig } from '../../../runtime/config/project-config.ts';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { kafkaConnectionFromEnv } from '../../../runtime/kafka/kafka-connection.ts';
import type { KafkaBridgeOptions } from './kafka-bridge-options.ts';

/** Settings of the bridge's section of the project file (`sinks.<BRIDGE_NAME>`). */
const SECTION_SETTINGS = [
  'topics',
  'offsetsTopic',
  'offsetsReplicationFactor',
  'transactionTimeoutMs',
  'producerRetryInitialMs',
  'maxRequestBytes',
  'offsetsReadTimeoutMs',
] as const;

/**
 * The bridge's options from the environment (BRIDGE_NAME, the KAFKA_* connection, see
 * runtime/kafka/kafka-connection.ts) and its section of the project file:
 *
 * ```json
 * { "sinks": { "kafka": {
 *     "topics": { "todo": { "topic": "todos", "partitions": 6, "replicationFactor": 3, "compact": true } },
 *     "offsetsReplicationFactor": 3, "transactionTimeoutMs": 30000 } } }
 * ```
 *
 * A setting the section does not know is refused by name, so a misspelt one is not ignored.
 */
export function kafkaBridgeOptionsFromConfig(env: Env, config: ProjectConfig): KafkaBridgeOptions {
  const name = envString(env, 'BRIDGE_NAME', 'kafka');
  const section = config.sinks[name] ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new ConfigError(`the project file's sinks.${name} must be an object`);
  const settings = section as Record<string, unknown>;
  for (const key of Object.keys(settings))
    if (!(SECTION_SETTINGS as readonly string[]).includes(key))
      throw new ConfigError(
        `unknown bridge setting sinks.${name}.${key} (known: ${SECTION_SETTINGS.join(', ')})`,
      );
  return {
    ...(settings as Partial<KafkaBridgeOptions>),
    kafka: kafkaConnectionFromEnv(env),
    name,
    prefix: config.prefix,
  };
}
