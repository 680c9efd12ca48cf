import { ConfigError } from '../errors/config-error.ts';
import type { Instrumentation } from '../instrumentation/instrumentation.ts';
import type { RedisClient } from '../redis-client.ts';
import type { RedisConnectionOptions } from '../redis-connection.ts';
import type { AvroSchema } from '../schema/avro-schema.ts';

/** `behind`: return once the event is in the log. `through`: once every required sink applied it. */
export type WriteMode = 'behind' | 'through';

/** Per-entity capture settings. */
export interface EntityOptions {
  /**
   * Schema to register at start (as the next version, if it differs from the latest).
   * Default: use the latest version already in the registry.
   */
  schema?: AvroSchema;
  /** Number of partition streams. Default 4. Fixed once stored: it decides where keys live. */
  partitions?: number;
  /** Default write mode. Default `behind`. */
  writeMode?: WriteMode;
  /**
   * Sinks a write-through waits for. Default: every consumer group that exists on the
   * partition stream at the time of the write (a sink's group is named after the sink).
   */
  requiredSinks?: string[];
  /** Record field that holds the entity key. Default `id`. */
  keyField?: string;
  /**
   * Answer a write only once this many replicas of the partition's Redis master hold it (Redis
   * WAIT, sent after the write on the same connection), so that a failover of that master loses
   * no acknowledged write. A write that is not confirmed in `timeoutMs` fails with
   * ReplicationUnconfirmedError (it is on the master; retry with the same idempotency key).
   * Default: none: writes are answered once on the master (replication is asynchronous).
   */
  waitForReplicas?: { replicas: number; timeoutMs: number };
}

/** Options of createCapture. */
export interface CaptureOptions {
  /**
   * An open ioredis connection (one server or a Redis Cluster) to use, or how to open one.
   * Default `redis://127.0.0.1:6379`.
   */
  redis?: RedisClient | RedisConnectionOptions;
  /** Prefix of every Redis key. Default `cdc`. */
  prefix?: string;
  /** The entities this capture writes. */
  entities: Record<string, EntityOptions>;
  /** How long an idempotency key is remembered, ms. Default 86 400 000 (24 h). */
  idempotencyWindowMs?: number;
  /** How long a write-through waits for the sinks, ms. Default 5000. */
  writeThroughTimeoutMs?: number;
  /** Receives `capture.*` events. Default: a private instance nobody listens to. */
  instrumentation?: Instrumentation;
}

/** Entity settings with every default applied. */
export interface ResolvedEntityOptions {
  schema: AvroSchema | undefined;
  partitions: number;
  writeMode: WriteMode;
  requiredSinks: string[] | undefined;
  keyField: string;
  waitForReplicas: { replicas: number; timeoutMs: number } | undefined;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

export function resolveEntityOptions(
  entity: string,
  options: EntityOptions,
): ResolvedEntityOptions {
  if (!NAME.test(entity)) {
    throw new ConfigError(
      `entity name "${entity}" must start with a letter and hold only letters, digits, _ and -`,
    );
  }
  const partitions = options.partitions ?? 4;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    throw new ConfigError(
      `${entity}.partitions must be an integer from 1 to 1024, got ${partitions}`,
    );
  }
  const writeMode = options.writeMode ?? 'behind';
  if (writeMode !== 'behind' && writeMode !== 'through') {
    throw new ConfigError(
      `${entity}.writeMode must be "behind" or "through", got "${String(writeMode)}"`,
    );
  }
  for (const sink of options.requiredSinks ?? []) {
    if (!NAME.test(sink))
      throw new ConfigError(`${entity}.requiredSinks has an invalid sink name "${sink}"`);
  }
  return {
    schema: options.schema,
    partitions,
    writeMode,
    requiredSinks: options.requiredSinks,
    keyField: options.keyField ?? 'id',
    waitForReplicas: resolveWaitForReplicas(entity, options.waitForReplicas),
  };
}

export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result <= 0)
    throw new ConfigError(`${name} must be a positive integer, got ${result}`);
  return result;
}

function resolveWaitForReplicas(
  entity: string,
  wait: EntityOptions['waitForReplicas'],
): ResolvedEntityOptions['waitForReplicas'] {
  if (wait === undefined) return undefined;
  const { replicas, timeoutMs } = wait;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) {
    throw new ConfigError(
      `${entity}.waitForReplicas.replicas must be an integer from 1 to 16, got ${String(replicas)}`,
    );
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new ConfigError(
      `${entity}.waitForReplicas.timeoutMs must be a positive integer (ms), got ${String(timeoutMs)}`,
    );
  }
  return { replicas, timeoutMs };
}
