import { Kafka, logLevel } from 'kafkajs';
import type { Env } from '../../../runtime/config/env.ts';
import { BridgeIncidents } from '../../../runtime/kafka/bridge-incidents.ts';
import { BridgeTopics } from '../../../runtime/kafka/bridge-topics.ts';
import { kafkaConnectionFromEnv } from '../../../runtime/kafka/kafka-connection.ts';
import {
  type BridgeQuery,
  type KafkaFedSinkQuery,
  kafkaLag,
} from '../../../runtime/kafka/kafka-lag.ts';
import type { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { KafkaSourcedSinks } from '../../../runtime/sink/source/kafka-sourced-sinks.ts';
import { ZERO_ID } from '../../../runtime/stream-id.ts';
import { formatTable } from './table.ts';

type Row = Record<string, string | number>;

/** A bridge's failures (kept in Redis) and what it produced to each partition of its topics. */
export interface BridgeLag {
  sink: string;
  'aborted transactions': number;
  /** ISO time of the last one, empty when none. */
  'last aborted': string;
  'fenced producers': number;
  'last fenced': string;
  partitions: Row[];
}

/** What `cdc lag` shows beyond the partition streams; the keys are the table's columns. */
export interface KafkaLagReport {
  /** Per partition of each Kafka-fed sink's topics. */
  kafkaSinks: Row[];
  /** Per bridge: its failures, and per partition of its topics what it produced. */
  bridges: BridgeLag[];
  /** Why the Kafka figures are missing, when they are (one line). */
  kafkaUnavailable?: string;
}

/**
 * The Kafka part of `cdc lag`: sinks reading Kafka (listed by their Kafka source in Redis) and
 * the bridges among `groups` (those that recorded their topics). Kafka is asked only when there
 * is one; its connection comes from the bridge's variables (KAFKA_BROKERS, KAFKA_*). When it
 * cannot be reached, or is misconfigured, the report says so in one line, the bridges' counts
 * (kept in Redis) stay, and a Kafka-fed sink's lag is unknown.
 */
export async function kafkaLagReport(
  redis: RedisClient,
  keys: Keys,
  env: Env,
  options: { sink?: string; groups: Iterable<string> },
): Promise<KafkaLagReport> {
  const only = (name: string) => options.sink === undefined || options.sink === name;
  const sourced = new KafkaSourcedSinks(redis, keys);
  const sinks: KafkaFedSinkQuery[] = [];
  for (const sink of (await sourced.sinks()).filter(only)) {
    const topics = await sourced.topicsOf(sink);
    if (topics.size === 0) continue; // moved back to the streams
    sinks.push({
      sink,
      topics,
      applied: async (entity, partition) =>
        (await redis.get(keys.watermark(entity, partition, sink))) ?? ZERO_ID,
    });
  }
  const bridges: BridgeQuery[] = [];
  const bridgeTopics = new BridgeTopics(redis, keys);
  for (const sink of new Set(options.groups)) {
    if (!only(sink)) continue;
    const topics = await bridgeTopics.of(sink);
    if (topics.size > 0) bridges.push({ sink, topics });
  }
  const report: KafkaLagReport = { kafkaSinks: [], bridges: [] };
  if (sinks.length === 0 && bridges.length === 0) return report;

  const incidents = new BridgeIncidents(redis, keys);
  const counts: BridgeLag[] = [];
  for (const { sink } of bridges) {
    const { aborted, fenced } = await incidents.of(sink);
    counts.push({
      sink,
      'aborted transactions': aborted.count,
      'last aborted': isoOrEmpty(aborted.lastAt),
      'fenced producers': fenced.count,
      'last fenced': isoOrEmpty(fenced.lastAt),
      partitions: [],
    });
  }

  let figures: Awaited<ReturnType<typeof kafkaLag>> | undefined;
  try {
    figures = await withKafka(env, (kafka, admin) => kafkaLag(kafka, admin, { sinks, bridges }));
  } catch (err) {
    report.kafkaUnavailable = oneLine(err);
  }
  if (figures) {
    report.kafkaSinks = figures.sinks.map((l) => ({
      sink: l.sink,
      entity: l.entity,
      topic: l.topic,
      partition: l.partition,
      applied: l.applied,
      'end offset': Number(l.end),
      behind: l.behind ?? 'unknown',
      'offsets to end': l.offsetsToEnd,
    }));
    for (const bridge of counts)
      report.bridges.push({
        ...bridge,
        partitions: figures.bridges
          .filter((p) => p.sink === bridge.sink)
          .map((p) => ({
            entity: p.entity,
            topic: p.topic,
            partition: p.partition,
            'end offset': Number(p.end),
            'last produced offset':
              p.lastProduced === null
                ? 'none'
                : p.lastProduced === undefined
                  ? 'unknown'
                  : Number(p.lastProduced),
          })),
      });
    return report;
  }
  // Without Kafka a sink's partitions are not even known: one unknown row per topic.
  for (const { sink, topics } of sinks)
    for (const [entity, topic] of topics)
      report.kafkaSinks.push({
        sink,
        entity,
        topic,
        partition: 'unknown',
        applied: '',
        'end offset': 'unknown',
        behind: 'unknown',
        'offsets to end': 'unknown',
      });
  report.bridges = counts;
  return report;
}

/**
 * Whether a Kafka-fed sink's row is further behind than `max` entries, or may be: its count
 * unknown and its offsets to the end (records, markers and aborted records) over `max` too.
 */
export function kafkaSinkRowOver(row: Row, max: number): boolean {
  if (typeof row.behind === 'number') return row.behind > max;
  return typeof row['offsets to end'] !== 'number' || row['offsets to end'] > max;
}

/**
 * The report as tables, after the streams' table (nothing when there is nothing of Kafka).
 * `table` prints one table; by default an aligned plain-text one on stdout.
 */
export function printKafkaLagReport(
  report: KafkaLagReport,
  table: (rows: readonly Row[]) => void = (rows) => console.log(formatTable(rows)),
): void {
  if (report.kafkaUnavailable !== undefined)
    console.log(`Kafka figures unavailable: ${report.kafkaUnavailable}`);
  if (report.kafkaSinks.length > 0) {
    console.log('Sinks reading Kafka (end offset: the last stable offset, read_committed):');
    table(report.kafkaSinks);
  }
  if (report.bridges.length > 0) {
    console.log('Kafka bridges:');
    table(report.bridges.map(({ partitions: _, ...counts }) => counts));
    const partitions = report.bridges.flatMap((b) =>
      b.partitions.map((p) => ({ sink: b.sink, ...p })),
    );
    if (partitions.length > 0) table(partitions);
  }
}

async function withKafka<T>(
  env: Env,
  work: (kafka: Kafka, admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  // An operator waits for the answer: fail within seconds rather than kafkajs' half minute.
  const kafka = new Kafka({
    ...kafkaConnectionFromEnv(env, 'cdc-cli'),
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(kafka, admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function isoOrEmpty(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

/** An error as one line: its message, and its cause's when it says more. */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  return (cause && !message.includes(cause) ? `${message}: ${cause}` : message).replace(
    /\s+/g,
    ' ',
  );
}
