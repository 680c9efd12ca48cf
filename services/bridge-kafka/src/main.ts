import { hostname } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { EntityMetadataStore } from '../../../runtime/capture/entity-metadata.ts';
import { envOptional, envString, redisFromEnv } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { Instrumentation } from '../../../runtime/instrumentation/instrumentation.ts';
import { BridgeIncidents } from '../../../runtime/kafka/bridge-incidents.ts';
import { BridgeTopics } from '../../../runtime/kafka/bridge-topics.ts';
import { Keys } from '../../../runtime/keys.ts';
import { connectRedisClient } from '../../../runtime/redis-connection.ts';
import { SchemaRegistry } from '../../../runtime/schema/schema-registry.ts';
import { runServiceMain } from '../../../runtime/service/run-service-main.ts';
import { runSinkService, sinkServiceLogger } from '../../../runtime/sink/run-sink-service.ts';
import { recordBridgeIncidents } from './bridge-incident-recorder.ts';
import { registerBridgeMetrics } from './bridge-metrics.ts';
import { kafkaBridgeOptionsFromConfig } from './kafka-bridge-config.ts';
import { KafkaBridgeSink } from './kafka-bridge-sink.ts';
import { KafkaSchemaMirror } from './kafka-schema-mirror.ts';
import { leaseOwnership } from './partition-ownership.ts';

/**
 * The Kafka bridge service: a sink on the shared runtime producing every change event to its
 * entity's Kafka topic exactly once. Environment: BRIDGE_NAME (default `kafka`: its consumer
 * group, leases, offsets, dead letters and metrics), KAFKA_BROKERS and the other KAFKA_*
 * connection variables (runtime/kafka/kafka-connection.ts), CDC_CONFIG (its `sinks.<BRIDGE_NAME>` section:
 * topics, offsets topic, transaction timeout; kafka-bridge-config.ts), plus the runner's
 * variables (runtime/sink/run-sink-service.ts; SINK_BATCH_SIZE defaults to 4000 here).
 */
const env = process.env;
/** SINK_BATCH_SIZE unless set: four times the other sinks'. */
const DEFAULT_BATCH_SIZE = 4000;
const logger = sinkServiceLogger(envString(env, 'BRIDGE_NAME', 'kafka'), env);
await runServiceMain(logger, async () => {
  const config = await loadProjectConfig(env);
  const options = kafkaBridgeOptionsFromConfig(env, config);
  const name = options.name ?? 'kafka';
  // The bridge checks the partition leases itself (before starting a producer, which fences the
  // partition's other producers), so it names the consumer the runner holds them as.
  const consumer = envOptional(env, 'SINK_CONSUMER') ?? `${hostname()}-${process.pid}`;
  const redis = connectRedisClient(redisFromEnv(env));
  const keys = new Keys(config.prefix);
  const instrumentation = new Instrumentation();
  const registry = new Registry();
  registerBridgeMetrics(instrumentation, registry);
  // What `cdc lag` shows of the bridge beyond the consumer group: its failures and its topics.
  recordBridgeIncidents(instrumentation, new BridgeIncidents(redis, keys), logger);
  const metadata = new EntityMetadataStore(redis, keys);
  const sink = new KafkaBridgeSink(options, {
    entityPartitions: () => metadata.all(),
    ownsPartition: leaseOwnership(redis, keys, name, consumer),
    instrumentation,
    logger,
    // Writer schemas mirrored to <prefix>.__schemas, so sinks reading Kafka can decode the records
    // after Redis lost its registry (runtime/kafka/schema-mirror.ts).
    schemaMirror: new KafkaSchemaMirror(
      new Kafka({ ...options.kafka, logLevel: logLevel.NOTHING }),
      config.prefix,
      new SchemaRegistry(redis, keys),
      metadata,
      options.offsetsReplicationFactor,
    ),
    topicsEnsured: (topics) => new BridgeTopics(redis, keys).record(name, topics),
  });
  await runSinkService(
    sink,
    // A batch is a Kafka transaction per partition; bigger ones cost fewer transactions per event
    // (BENCHMARKS.md, "Kafka bridge"). Batches only grow this large while a backlog drains.
    {
      ...env,
      SINK_BATCH_SIZE: envString(env, 'SINK_BATCH_SIZE', String(DEFAULT_BATCH_SIZE)),
      SINK_CONSUMER: consumer,
    },
    {
      prefix: config.prefix,
      ...(config.retention ? { retention: config.retention } : {}),
      instrumentation,
      registry,
      logger,
      target: {
        where: `Kafka at ${String(options.kafka.brokers)}`,
        hint: 'check KAFKA_BROKERS and that the brokers are up',
      },
    },
  );
});
