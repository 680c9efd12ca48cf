import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import type { Keys } from '../../keys.ts';
import type { RedisClient } from '../../redis-client.ts';
import { SchemaRegistry } from '../../schema/schema-registry.ts';
import { WatermarkPublisher } from '../../watermark/watermark-publisher.ts';
import { DeadLetters } from '../dead-letters.ts';
import { PartitionLeases } from '../partition-leases.ts';
import { ReplayRequests } from '../replay-requests.ts';
import type { Sink } from '../sink.ts';
import type { ResolvedRunnerOptions } from '../sink-runner-options.ts';
import type { EventSource } from '../source/event-source.ts';
import { KafkaSource } from '../source/kafka-source.ts';
import { RedisStreamSource } from '../source/redis-stream-source.ts';
import { Acknowledger } from './acknowledger.ts';
import { EntityTargets } from './entity-targets.ts';
import { EntryDecoder } from './entry-decoder.ts';
import { Epoch } from './epoch.ts';
import { FailureIsolation } from './failure-isolation.ts';
import { LagReporter } from './lag-reporter.ts';
import { OperatorRequests } from './operator-requests.ts';
import { PartitionTakeover } from './partition-takeover.ts';
import { Prefetcher } from './prefetcher.ts';
import { RetentionTrimmer } from './retention-trimmer.ts';
import { TransientRetry } from './transient-retry.ts';

/** What the parts of a runner share. */
export interface RunnerContext {
  sink: Sink;
  options: ResolvedRunnerOptions;
  redis: RedisClient;
  keys: Keys;
  /** Entities asked for; undefined: every entity the capture has pinned. */
  entities: readonly string[] | undefined;
  /** Aborted by stop(): ends retries. */
  stopping: AbortSignal;
  instrumentation: Instrumentation;
  logger: Logger | undefined;
}

/** The parts of a SinkRunner, in the order an event passes through them. */
export interface RunnerParts {
  epoch: Epoch;
  retry: TransientRetry;
  source: EventSource;
  targets: EntityTargets;
  takeover: PartitionTakeover;
  decoder: EntryDecoder;
  prefetcher: Prefetcher;
  isolation: FailureIsolation;
  acknowledger: Acknowledger;
  requests: OperatorRequests;
  lag: LagReporter;
  /** Runs on its own timer beside the loop (started by the first partition acquired). */
  retention: RetentionTrimmer;
}

/** The source the options name: the partition streams, or the entities' Kafka topics. */
function createSource(context: RunnerContext, registry: SchemaRegistry): EventSource {
  const { sink, options, redis, keys, logger } = context;
  const { consumer, batchSize, blockMs, source } = options;
  if (source.kind === 'kafka')
    return new KafkaSource({
      ...source,
      prefix: keys.prefix,
      redis,
      keys,
      registry,
      sink: sink.name,
      consumer,
      batchSize,
      blockMs,
      logger,
    });
  return new RedisStreamSource({
    redis,
    keys,
    group: sink.name,
    consumer,
    batchSize,
    blockMs,
    onGroupMovedBack: (moved) => logger?.info(moved, 'group moved back to the committed offset'),
  });
}

/** Builds a runner's parts around the source its options name. */
export function assembleRunnerParts(context: RunnerContext): RunnerParts {
  const { sink, options, redis, keys, instrumentation, logger } = context;
  const epoch = new Epoch();
  const retry = new TransientRetry(sink, options.retry, context.stopping, instrumentation, logger);
  const registry = new SchemaRegistry(redis, keys);
  const source = createSource(context, registry);
  const deadLetters = new DeadLetters(redis, keys, sink.name);
  const targets = new EntityTargets(
    redis,
    keys,
    registry,
    sink,
    source,
    context.entities,
    epoch,
    logger,
  );
  const decoder = new EntryDecoder(registry, targets, sink.readsPayloads === true, retry);
  const watermarks = new WatermarkPublisher(redis, keys);
  const acknowledger = new Acknowledger(
    sink.name,
    source,
    redis,
    watermarks,
    instrumentation,
    logger,
  );
  const leases = new PartitionLeases(redis, keys, sink.name, options.consumer, options.leaseMs);
  const takeover = new PartitionTakeover(
    sink,
    source,
    leases,
    deadLetters,
    acknowledger,
    epoch,
    instrumentation,
    logger,
  );
  return {
    epoch,
    retry,
    source,
    targets,
    decoder,
    acknowledger,
    takeover,
    prefetcher: new Prefetcher(sink, epoch, options.maxDeliveries, logger),
    isolation: new FailureIsolation(sink, deadLetters, epoch, retry, instrumentation, logger),
    requests: new OperatorRequests(
      sink,
      source,
      new ReplayRequests(redis, keys, sink.name),
      deadLetters,
      targets,
      decoder,
      acknowledger,
      retry,
      instrumentation,
      logger,
    ),
    lag: new LagReporter(sink.name, source, instrumentation),
    retention: new RetentionTrimmer(
      sink.name,
      options.consumer,
      redis,
      keys,
      takeover.owned,
      // A sink reading Kafka owns the topics' partitions, not the streams': it leaves them to
      // the sinks (and the bridge) that read the streams.
      options.source.kind === 'kafka' ? { ...options.retention, intervalMs: 0 } : options.retention,
      context.stopping,
      instrumentation,
      logger,
    ),
  };
}
