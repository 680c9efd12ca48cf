import { EntityMetadataStore } from '../../../runtime/capture/entity-metadata.ts';
import { consumerGroups } from '../../../runtime/consumer-groups.ts';
import type { Keys } from '../../../runtime/keys.ts';
import { type PartitionRef, partitionIdOf } from '../../../runtime/partition-id.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { KafkaSourcedSinks } from '../../../runtime/sink/source/kafka-sourced-sinks.ts';
import { getMany } from './get-many.ts';
import { scanKeys } from './scan-keys.ts';

/** One live instance of a sink, as its heartbeats and leases in Redis show it. */
export interface SinkInstance {
  /** Its consumer name (SINK_CONSUMER, default `<hostname>-<pid>`). */
  instance: string;
  /** The partitions whose lease it holds, as `entity/partition`. */
  partitions: string[];
  /** Seconds since its last heartbeat; undefined when it records none (an older version). */
  heartbeatAgeS: number | undefined;
  /** Seconds until its membership expires unless it beats again. */
  expiresInS: number;
}

/** A sink (a consumer group of the partition streams, or a sink reading Kafka) and its instances. */
export interface SinkStatus {
  sink: string;
  /** Where it reads: the partition streams or Kafka topics. */
  source: 'streams' | 'kafka';
  /** `running` with at least one live instance, `stopped` with none. */
  state: 'running' | 'stopped';
  /** Partitions it consumes (for a sink reading Kafka: those whose lease is held). */
  partitions: number;
  /** Its partitions no live instance holds the lease of, as `entity/partition`. */
  unowned: string[];
  instances: SinkInstance[];
}

/**
 * Every sink known for the project's entities, with its live instances: the members of its
 * instance set not yet expired (runtime/sink/partition-leases.ts), each with the partitions whose
 * lease it holds and the age of its last heartbeat.
 */
export async function sinkStatuses(redis: RedisClient, keys: Keys): Promise<SinkStatus[]> {
  const metadata = await new EntityMetadataStore(redis, keys).all();
  // Stream sinks: the consumer groups of each partition stream, with the partitions they read.
  const consumed = new Map<string, PartitionRef[]>();
  for (const [entity, meta] of metadata)
    for (let partition = 0; partition < meta.partitions; partition++)
      for (const group of await consumerGroups(redis, keys.stream(entity, partition)))
        consumed.set(group.name, [...(consumed.get(group.name) ?? []), { entity, partition }]);
  const statuses: SinkStatus[] = [];
  for (const [sink, partitions] of consumed)
    statuses.push(await statusOf(redis, keys, sink, 'streams', partitions));
  // Sinks reading Kafka have no consumer group on the streams; their partitions are the topics'
  // (Kafka's count, unknown to Redis): the leases held under each entity say which.
  const sourced = new KafkaSourcedSinks(redis, keys);
  for (const sink of await sourced.sinks()) {
    if (consumed.has(sink)) continue;
    const partitions: PartitionRef[] = [];
    for (const entity of (await sourced.topicsOf(sink)).keys())
      partitions.push(...(await leasedPartitions(redis, keys, entity, sink)));
    statuses.push(await statusOf(redis, keys, sink, 'kafka', partitions));
  }
  return statuses.sort((a, b) => a.sink.localeCompare(b.sink));
}

async function statusOf(
  redis: RedisClient,
  keys: Keys,
  sink: string,
  source: SinkStatus['source'],
  partitions: readonly PartitionRef[],
): Promise<SinkStatus> {
  const members = await redis.zrangebyscore(
    keys.sinkMembers(sink),
    Date.now(),
    '+inf',
    'WITHSCORES',
  );
  const names = members.filter((_, i) => i % 2 === 0);
  const beats = await getMany(
    redis,
    names.map((n) => keys.sinkHeartbeat(sink, n)),
  );
  // Ages are taken after the reads: a beat that came while they ran is not in the future.
  const now = Date.now();
  const instances = new Map<string, SinkInstance>();
  names.forEach((instance, i) => {
    const beat = beats[i];
    instances.set(instance, {
      instance,
      partitions: [],
      heartbeatAgeS: beat == null ? undefined : seconds(Math.max(0, now - Number(beat))),
      expiresInS: seconds(Math.max(0, Number(members[2 * i + 1]) - now)),
    });
  });
  // Each partition's lease lives in its own slot (the partition's hash tag).
  const holders = await getMany(
    redis,
    partitions.map((p) => keys.lease(p.entity, p.partition, sink)),
  );
  const unowned: string[] = [];
  partitions.forEach((ref, i) => {
    const holder = holders[i];
    const owner = holder ? instances.get(holder) : undefined;
    // A lease outliving its holder's membership (it stopped beating) is not a live owner.
    if (owner) owner.partitions.push(partitionIdOf(ref));
    else unowned.push(partitionIdOf(ref));
  });
  return {
    sink,
    source,
    state: instances.size > 0 ? 'running' : 'stopped',
    partitions: partitions.length,
    unowned,
    instances: [...instances.values()].sort((a, b) => a.instance.localeCompare(b.instance)),
  };
}

/**
 * The partitions of an entity whose lease a sink holds, found by their key names: a lease key
 * with a marker for the partition number (key names are built in one place, runtime/keys.ts)
 * gives the text around the number.
 */
async function leasedPartitions(
  redis: RedisClient,
  keys: Keys,
  entity: string,
  sink: string,
): Promise<PartitionRef[]> {
  const marker = 918273645;
  const parts = keys.lease(entity, marker, sink).split(String(marker));
  if (parts.length !== 2) return [];
  const [before = '', after = ''] = parts;
  const found: PartitionRef[] = [];
  // On a cluster the leases of an entity's partitions are spread over every master.
  for (const name of await scanKeys(redis, `${globEscape(before)}*${globEscape(after)}`)) {
    const number = name.slice(before.length, name.length - after.length);
    if (/^\d+$/.test(number)) found.push({ entity, partition: Number(number) });
  }
  return found.sort((a, b) => a.partition - b.partition);
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Milliseconds as seconds with one decimal, rounded down: an age never shows more than it is. */
function seconds(ms: number): number {
  return Math.floor(ms / 100) / 10;
}
