import type { KafkaConfig } from 'kafkajs';
import { ConfigError } from '../../errors/config-error.ts';

/** Read the partition streams through the sink's consumer group (the default). */
export interface StreamsSourceOptions {
  kind: 'streams';
}

/**
 * Read the entities' Kafka topics the bridge fills instead: how a sink rebuilds its target when
 * Redis lost its streams (ARCHITECTURE.md, "Reading from another source").
 */
export interface KafkaSourceSettings {
  kind: 'kafka';
  /** kafkajs client settings: brokers, client id, TLS, SASL, timeouts. Required. */
  kafka: KafkaConfig;
  /**
   * The topic of each entity whose topic is not `<prefix>.<entity>` (the bridge's `topics`
   * setting names them). Default: none.
   */
  topics?: Record<string, string>;
  /** Messages kept per Kafka partition before fetching it pauses. Default: the batch size, at least 1000. */
  bufferPerPartition?: number;
  /** Longest wait for the schema mirror to be read at start, ms. Default 30 000. */
  schemaMirrorTimeoutMs?: number;
}

/** Where a sink reads its events. */
export type SinkSourceOptions = StreamsSourceOptions | KafkaSourceSettings;

/** Source options with the defaults applied. */
export type ResolvedSourceOptions =
  | StreamsSourceOptions
  | (Required<Omit<KafkaSourceSettings, 'topics'>> & { topics: ReadonlyMap<string, string> });

/** Checks the source options once, at construction; throws ConfigError naming the setting. */
export function resolveSourceOptions(
  source: SinkSourceOptions | undefined,
  batchSize: number,
): ResolvedSourceOptions {
  if (source === undefined || source.kind === 'streams') return { kind: 'streams' };
  if (source.kind !== 'kafka')
    throw new ConfigError(
      `sink runner option source.kind must be "streams" or "kafka", got "${String((source as { kind: unknown }).kind)}"`,
    );
  if (!Array.isArray(source.kafka?.brokers) || source.kafka.brokers.length === 0)
    if (typeof source.kafka?.brokers !== 'function')
      throw new ConfigError('sink runner option source.kafka must name at least one broker');
  const topics = new Map<string, string>();
  for (const [entity, topic] of Object.entries(source.topics ?? {})) {
    // https://kafka.apache.org/documentation/#topicconfigs: legal characters, at most 249.
    if (typeof topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic))
      throw new ConfigError(
        `sink runner option source.topics.${entity} is not a legal Kafka topic name: ${String(topic)}`,
      );
    topics.set(entity, topic);
  }
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`sink runner option source.${name} must be an integer >= 1, got ${v}`);
    return v;
  };
  return {
    kind: 'kafka',
    kafka: source.kafka,
    topics,
    bufferPerPartition: positive(
      'bufferPerPartition',
      source.bufferPerPartition,
      Math.max(batchSize, 1000),
    ),
    schemaMirrorTimeoutMs: positive('schemaMirrorTimeoutMs', source.schemaMirrorTimeoutMs, 30_000),
  };
}
