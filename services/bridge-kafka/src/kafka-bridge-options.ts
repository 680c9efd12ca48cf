import type { KafkaConfig } from 'kafkajs';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { bridgeOffsetsTopic } from '../../../runtime/kafka/kafka-message.ts';

/**
 * Options of the Kafka bridge. Every field but `kafka` has a default. The entities' topics come
 * from the project file's `sinks.<name>.topics` (runtime/kafka/kafka-topics.ts), passed here as
 * `topics` and resolved once the entities are known.
 */
export interface KafkaBridgeOptions {
  /** kafkajs client settings: brokers, client id, TLS, SASL, timeouts. Required. */
  kafka: KafkaConfig;
  /** Names the consumer group, leases, offsets and metrics of this bridge. Default `kafka`. */
  name?: string;
  /**
   * Prefix of the default topic names (`<prefix>.<entity>`), of the offsets topic and of the
   * transactional ids; the deployment's Redis key prefix. Default `cdc`.
   */
  prefix?: string;
  /** The `topics` setting of the project file's bridge section, unresolved. Default `{}`. */
  topics?: unknown;
  /** The compacted topic holding each partition's offset. Default `<prefix>.__bridge_offsets`. */
  offsetsTopic?: string;
  /**
   * Replication factor the offsets topic (and, in the service, the schema mirror) is created
   * with. Default 1; use 3 in production.
   */
  offsetsReplicationFactor?: number;
  /**
   * How long the transaction coordinator lets a transaction stay open before aborting it, ms.
   * Default 30 000. A bridge killed in the middle of one leaves it open, and read_committed
   * consumers of its partitions wait until the next owner's producer aborts it or this passes.
   */
  transactionTimeoutMs?: number;
  /**
   * First wait of kafkajs' own retries inside a producer, ms. Default 10. Back-to-back
   * transactions of one producer meet CONCURRENT_TRANSACTIONS while the coordinator still
   * writes the previous one's markers (a few ms); kafkajs' default first wait, 300 ms, would
   * cost every transaction that long (kafkajs #304).
   */
  producerRetryInitialMs?: number;
  /**
   * Most bytes of records in one produce request, roughly. Default 512 KiB. A transaction larger
   * than that is sent as several requests: the broker refuses a partition's records of one
   * request whole when they exceed `max.message.bytes` (1 MiB by default).
   */
  maxRequestBytes?: number;
  /**
   * Longest wait for the offsets topic to be read up to its end, ms. Default 30 000. Past it the
   * read fails as transient and is tried again.
   */
  offsetsReadTimeoutMs?: number;
}

/** Options with the defaults applied. */
export interface ResolvedKafkaBridgeOptions {
  kafka: KafkaConfig;
  name: string;
  prefix: string;
  topics: unknown;
  offsetsTopic: string;
  offsetsReplicationFactor: number;
  transactionTimeoutMs: number;
  producerRetryInitialMs: number;
  maxRequestBytes: number;
  offsetsReadTimeoutMs: number;
}

/**
 * Checks the options and merges the defaults, once, at construction. Values usually come from a
 * JSON file, so their types are checked too. Throws ConfigError naming the setting.
 */
export function resolveKafkaBridgeOptions(options: KafkaBridgeOptions): ResolvedKafkaBridgeOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('kafka bridge options must be an object');
  const { kafka } = options;
  if (
    typeof kafka !== 'object' ||
    kafka === null ||
    (Array.isArray(kafka.brokers) && kafka.brokers.length === 0)
  )
    throw new ConfigError('kafka bridge: kafka must name at least one broker');
  const name = options.name ?? 'kafka';
  // The runner's rule for sink names, checked here so a bad name fails before anything connects.
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(name))
    throw new ConfigError(
      `kafka bridge: name (BRIDGE_NAME) must start with a letter and hold only letters, digits, _ and - (at most 63), got ${JSON.stringify(name)}`,
    );
  const prefix = options.prefix ?? 'cdc';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(prefix))
    throw new ConfigError(
      `kafka bridge: prefix must be 1-200 letters, digits, '.', '_' or '-' (it starts topic names), got ${JSON.stringify(prefix)}`,
    );
  const offsetsTopic = options.offsetsTopic ?? bridgeOffsetsTopic(prefix);
  if (typeof offsetsTopic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(offsetsTopic))
    throw new ConfigError(
      `kafka bridge: offsetsTopic is not a legal Kafka topic name: ${JSON.stringify(offsetsTopic)}`,
    );
  return {
    kafka,
    name,
    prefix,
    topics: options.topics ?? {},
    offsetsTopic,
    offsetsReplicationFactor: integer(
      'offsetsReplicationFactor',
      options.offsetsReplicationFactor,
      1,
      1,
    ),
    transactionTimeoutMs: integer(
      'transactionTimeoutMs',
      options.transactionTimeoutMs,
      30_000,
      1000,
    ),
    producerRetryInitialMs: integer(
      'producerRetryInitialMs',
      options.producerRetryInitialMs,
      10,
      1,
    ),
    maxRequestBytes: integer('maxRequestBytes', options.maxRequestBytes, 512 * 1024, 1024),
    offsetsReadTimeoutMs: integer(
      'offsetsReadTimeoutMs',
      options.offsetsReadTimeoutMs,
      30_000,
      100,
    ),
  };
}

function integer(setting: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new ConfigError(
      `kafka bridge: ${setting} must be an integer >= ${min}, got ${JSON.stringify(value)}`,
    );
  return value;
}
