import { ConfigError } from '../errors/config-error.ts';
import { defaultTopic } from './kafka-message.ts';

/** Where one entity's change events go in Kafka. */
export interface KafkaTopicOptions {
  /** Topic name. Default `<prefix>.<entity>`. */
  topic: string;
  /** Partitions the topic is created with. Default: the entity's partition count in Redis. */
  partitions: number;
  /** Replication factor the topic is created with. Default 1 (a single broker); use 3 in production. */
  replicationFactor: number;
  /** `cleanup.policy=compact`: Kafka keeps the last event per key and drops deleted keys. Default false. */
  compact: boolean;
}

/**
 * The Kafka topics of the bridge's section of the project file (`sinks.<bridge name>`):
 *
 * ```json
 * { "topics": { "todo": { "topic": "todos", "partitions": 6, "replicationFactor": 3, "compact": true } } }
 * ```
 *
 * Every entity gets a topic; an entity not listed gets the defaults. The subject of its values in
 * the registry's Confluent-compatible API is `<topic>-value`. Throws ConfigError naming the
 * setting that is wrong.
 */
export function resolveKafkaTopics(
  section: unknown,
  prefix: string,
  entities: ReadonlyMap<string, { partitions: number }>,
): Map<string, KafkaTopicOptions> {
  const topics = (section as { topics?: unknown } | undefined)?.topics ?? {};
  if (typeof topics !== 'object' || topics === null || Array.isArray(topics))
    throw new ConfigError(
      'the bridge setting "topics" must be an object of entity → topic options',
    );
  const configured = topics as Record<string, unknown>;
  for (const entity of Object.keys(configured))
    if (!entities.has(entity))
      throw new ConfigError(`the bridge setting topics.${entity} names an unknown entity`);
  const out = new Map<string, KafkaTopicOptions>();
  const names = new Map<string, string>();
  for (const [entity, { partitions }] of entities) {
    const raw = configured[entity] ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ConfigError(`the bridge setting topics.${entity} must be an object`);
    const options = raw as Partial<Record<keyof KafkaTopicOptions, unknown>>;
    const at = (name: string) => `topics.${entity}.${name}`;
    const topic = options.topic ?? defaultTopic(prefix, entity);
    // https://kafka.apache.org/documentation/#topicconfigs: legal characters, at most 249.
    if (
      typeof topic !== 'string' ||
      !/^[A-Za-z0-9._-]{1,249}$/.test(topic) ||
      /^\.\.?$/.test(topic)
    )
      throw new ConfigError(
        `the bridge setting ${at('topic')} is not a legal Kafka topic name: ${String(topic)}`,
      );
    const other = names.get(topic);
    if (other)
      throw new ConfigError(`entities ${other} and ${entity} cannot share the topic ${topic}`);
    names.set(topic, entity);
    out.set(entity, {
      topic,
      partitions: positive(options.partitions ?? partitions, at('partitions')),
      replicationFactor: positive(options.replicationFactor ?? 1, at('replicationFactor')),
      compact: flag(options.compact ?? false, at('compact')),
    });
  }
  return out;
}

/** The registry subject of a topic's values (Confluent's TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

function positive(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new ConfigError(
      `the bridge setting ${name} must be an integer >= 1, got ${String(value)}`,
    );
  return value as number;
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean')
    throw new ConfigError(`the bridge setting ${name} must be true or false, got ${String(value)}`);
  return value;
}
