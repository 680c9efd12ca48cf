import { type Env, envInteger, envOptional } from '../../config/env.ts';
import { ConfigError } from '../../errors/config-error.ts';
import { kafkaConnectionFromEnv } from '../../kafka/kafka-connection.ts';
import type { SinkSourceOptions } from './sink-source-options.ts';

/**
 * A sink service's source from the environment:
 *
 * | variable                         | meaning                                                        | default           |
 * | -------------------------------- | -------------------------------------------------------------- | ----------------- |
 * | `SINK_SOURCE`                    | `streams` (the partition streams) or `kafka` (the bridge's topics) | `streams`     |
 * | `KAFKA_BROKERS`, `KAFKA_*`       | with `kafka`: how to reach Kafka (runtime/kafka/kafka-connection.ts) | `127.0.0.1:9092` |
 * | `SINK_KAFKA_TOPICS`              | with `kafka`: `entity=topic,…` where a topic is not `<prefix>.<entity>` | none    |
 * | `SINK_KAFKA_MIRROR_TIMEOUT_MS`   | with `kafka`: longest wait for the schema mirror at start      | 30000             |
 *
 * Throws ConfigError naming the variable.
 */
export function sinkSourceFromEnv(env: Env, sink: string): SinkSourceOptions {
  const kind = envOptional(env, 'SINK_SOURCE') ?? 'streams';
  if (kind === 'streams') return { kind };
  if (kind !== 'kafka')
    throw new ConfigError(`SINK_SOURCE must be "streams" or "kafka", got "${kind}"`);
  const topics: Record<string, string> = {};
  for (const pair of (envOptional(env, 'SINK_KAFKA_TOPICS') ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const [entity, topic, extra] = pair.split('=').map((p) => p.trim());
    if (!entity || !topic || extra !== undefined)
      throw new ConfigError(`SINK_KAFKA_TOPICS must be a list of entity=topic, got "${pair}"`);
    topics[entity] = topic;
  }
  return {
    kind,
    kafka: kafkaConnectionFromEnv(env, `cdc-sink-${sink}`),
    topics,
    schemaMirrorTimeoutMs: envInteger(env, 'SINK_KAFKA_MIRROR_TIMEOUT_MS', 30_000, 1),
  };
}
