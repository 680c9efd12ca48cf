import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../backoff.ts';
import { ConfigError } from '../errors/config-error.ts';
import type { Instrumentation } from '../instrumentation/instrumentation.ts';
import type { RedisClient } from '../redis-client.ts';
import type { RedisConnectionOptions } from '../redis-connection.ts';
import {
  type ResolvedRetentionOptions,
  type RetentionOptions,
  resolveRetentionOptions,
} from '../retention/retention-options.ts';
import type { Sink } from './sink.ts';
import {
  type ResolvedSourceOptions,
  resolveSourceOptions,
  type SinkSourceOptions,
} from './source/sink-source-options.ts';

/** Options of a SinkRunner. */
export interface SinkRunnerOptions {
  /** The database side. */
  sink: Sink;
  /** An open ioredis connection to use, or how to open one. Default `redis://127.0.0.1:6379`. */
  redis?: RedisClient | RedisConnectionOptions;
  /** Redis key prefix, as the capture's. Default `cdc`. */
  prefix?: string;
  /** Entities to consume. Default: every entity the capture has written (entity metadata). */
  entities?: string[];
  /** This instance's consumer name, unique among the sink's instances. Default `<hostname>-<pid>`. */
  consumer?: string;
  /** Most entries in one batch, over all the partitions this instance owns. Default 1000. */
  batchSize?: number;
  /** How long a read waits for new entries, ms. Default 1000. */
  blockMs?: number;
  /** Partition lease time, ms: how soon a dead instance's partitions are taken over. Default 10 000. */
  leaseMs?: number;
  /** An entry delivered more often than this is dead-lettered instead of applied. Default 5. */
  maxDeliveries?: number;
  /** Backoff of transient failures (retried without limit). Defaults: 100 ms, x2, up to 10 s. */
  retry?: BackoffOptions;
  /** How often operator requests (re-drive, skip) and lag are checked, ms. Default 1000. */
  housekeepingMs?: number;
  /**
   * Where events are read from. Default `{ kind: 'streams' }`: the partition streams, through the
   * sink's consumer group. `{ kind: 'kafka', kafka, topics? }`: the entities' Kafka topics the
   * bridge fills, to rebuild a target when Redis lost its streams (see KafkaSourceSettings).
   */
  source?: SinkSourceOptions;
  /**
   * Attempts at start to connect to the target and discover the entities while the target is
   * unreachable, the first included; then `start()` rejects with the last error. Default:
   * unbounded (a service bounds it: STARTUP_ATTEMPTS).
   */
  startAttempts?: number;
  /**
   * Retention of the partitions this instance owns: each entity's policy and how often it is
   * applied. Default: every 30 s, the default policy (see RetentionOptions).
   */
  retention?: RetentionOptions;
  /** Receives `sink.*` events. Default: a private instance. */
  instrumentation?: Instrumentation;
  /** Logger. Default: silent. */
  logger?: Logger;
}

export interface ResolvedRunnerOptions {
  consumer: string;
  source: ResolvedSourceOptions;
  batchSize: number;
  blockMs: number;
  leaseMs: number;
  maxDeliveries: number;
  retry: BackoffOptions;
  housekeepingMs: number;
  startAttempts: number;
  retention: ResolvedRetentionOptions;
}

export function resolveRunnerOptions(options: SinkRunnerOptions): ResolvedRunnerOptions {
  const int = (name: string, value: number | undefined, fallback: number, min: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min)
      throw new ConfigError(`sink runner option ${name} must be an integer >= ${min}, got ${v}`);
    return v;
  };
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(options.sink.name)) {
    throw new ConfigError(
      `sink name "${options.sink.name}" must start with a letter and hold only letters, digits, _ and -`,
    );
  }
  const leaseMs = int('leaseMs', options.leaseMs, 10_000, 500);
  const batchSize = int('batchSize', options.batchSize, 1000, 1);
  return {
    consumer: options.consumer ?? `${hostname()}-${process.pid}`,
    source: resolveSourceOptions(options.source, batchSize),
    batchSize,
    blockMs: int('blockMs', options.blockMs, 1000, 1),
    leaseMs,
    maxDeliveries: int('maxDeliveries', options.maxDeliveries, 5, 1),
    retry: options.retry ?? {},
    housekeepingMs: int('housekeepingMs', options.housekeepingMs, 1000, 10),
    startAttempts:
      options.startAttempts === undefined
        ? Number.POSITIVE_INFINITY
        : int('startAttempts', options.startAttempts, 1, 1),
    retention: resolveRetentionOptions(options.retention),
  };
}
