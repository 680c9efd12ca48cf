import { EntityMetadataStore } from '../capture/entity-metadata.ts';
import { type ConsumerGroupInfo, parseGroupFields } from '../consumer-groups.ts';
import type { Keys } from '../keys.ts';
import { type PartitionLag, partitionLag } from '../lag.ts';
import type { RedisClient } from '../redis-client.ts';
import { isNoSuchKey } from '../redis-errors.ts';
import { compareStreamIds, ZERO_ID } from '../stream-id.ts';
import { servingNode } from './serving-node.ts';
import { type StreamInfo, trimmedUnread } from './trimmed-unread.ts';

/** A key a sink holds back behind a dead-lettered event, and why. */
export interface QuarantinedKey {
  key: string;
  /** Dead-letter id of the event that failed. */
  head: string;
  /** The error that event failed with, as the dead letter recorded it. */
  error: string;
  /** An operator's request not carried out yet. */
  request?: 'redrive' | 'skip';
}

/** Quarantined keys listed per partition (with their error); the others are only counted. */
export const QUARANTINE_SHOWN = 20;

/** One sink (consumer group) on one partition stream, read at one moment. */
export interface PartitionReading {
  sink: string;
  entity: string;
  partition: number;
  /** The numbers `cdc lag` prints, from the same reads (runtime/lag.ts). */
  lag: PartitionLag;
  /** The group's last-delivered id. */
  lastDelivered: string;
  /** The instance holding the partition's lease, if any. */
  owner: string | undefined;
  /**
   * The Redis node serving the partition (`host:port`, see servingNode): on a cluster its slot's
   * master, on one server that server; undefined while a cluster's slot map names none.
   */
  node: string | undefined;
  /** Its quarantined keys, oldest failure first, at most QUARANTINE_SHOWN of them. */
  quarantined: QuarantinedKey[];
  /** How many keys it holds in quarantine in all. */
  quarantinedCount: number;
  /** The stream's entries-added counter; undefined when the stream does not exist. */
  added: number | undefined;
  /** Retention removed entries this group had not read yet (see `trimmedUnread`). */
  trimmedUnread: boolean;
}

/** A sink instance announced in the sink's members set. */
export interface InstanceReading {
  sink: string;
  instance: string;
  /** When its heartbeat runs out, ms: it is live until then. */
  expiresAt: number;
}

/** What one round of reads saw. */
export interface PipelineReading {
  at: number;
  partitions: PartitionReading[];
  instances: InstanceReading[];
  /** Entries in each sink's dead-letter stream. */
  deadLetters: Map<string, number>;
}

/**
 * Reads every sink's position on every partition stream: the groups, watermarks and lag exactly
 * as `cdc lag` reads them (consumerGroups, the applied watermark, partitionLag), plus what the
 * lag page shows around them: leases, members, quarantines, dead letters, and whether retention
 * trimmed entries a group had not read. Sinks are the streams' consumer groups, as for `cdc lag`.
 * Every command names one key (a partition's, or a sink's under `{sink:<name>}` and
 * `{dlq:<sink>}`), so on a Redis Cluster each goes to the master of its slot by itself.
 */
export async function readPipeline(
  redis: RedisClient,
  keys: Keys,
  now: number = Date.now(),
): Promise<PipelineReading> {
  const partitions: PartitionReading[] = [];
  const sinks = new Set<string>();
  const metadata = await new EntityMetadataStore(redis, keys).all();
  for (const [entity, meta] of metadata) {
    for (let partition = 0; partition < meta.partitions; partition++) {
      const stream = keys.stream(entity, partition);
      const groups = await groupsOf(redis, stream);
      if (groups.length === 0) continue;
      const info = await streamInfo(redis, stream);
      for (const group of groups) {
        sinks.add(group.name);
        partitions.push(await readGroup(redis, keys, entity, partition, group, info, now));
      }
    }
  }
  const instances: InstanceReading[] = [];
  const deadLetters = new Map<string, number>();
  for (const sink of [...sinks].sort()) {
    const members = await redis.zrange(keys.sinkMembers(sink), 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < members.length; i += 2) {
      instances.push({ sink, instance: members[i]!, expiresAt: Number(members[i + 1]) });
    }
    deadLetters.set(sink, await redis.xlen(keys.deadLetters(sink)));
  }
  return { at: now, partitions, instances, deadLetters };
}

async function readGroup(
  redis: RedisClient,
  keys: Keys,
  entity: string,
  partition: number,
  group: GroupRead,
  info: StreamInfo | undefined,
  now: number,
): Promise<PartitionReading> {
  const stream = keys.stream(entity, partition);
  const applied = (await redis.get(keys.watermark(entity, partition, group.name))) ?? ZERO_ID;
  const lag = await partitionLag(redis, stream, group, applied, now);
  const owner = (await redis.get(keys.lease(entity, partition, group.name))) ?? undefined;
  let lowestPending: string | undefined;
  if (group.pending > 0) {
    // Summary form: [count, lowest id, highest id, consumers].
    const [, lowest] = (await redis.xpending(stream, group.name)) as [number, string | null];
    lowestPending = lowest ?? undefined;
  }
  const position = {
    ...group,
    ...(lowestPending !== undefined ? { lowestPending } : {}),
    ...(group.entriesRead !== undefined ? { entriesRead: group.entriesRead } : {}),
  };
  return {
    sink: group.name,
    entity,
    partition,
    lag,
    lastDelivered: group.lastDelivered,
    owner,
    // After the partition's reads: a slot that moved was followed, and the map refreshed.
    node: servingNode(redis, stream),
    ...(await quarantinedKeys(redis, keys, entity, partition, group.name)),
    added: info?.entriesAdded,
    trimmedUnread: info ? trimmedUnread(position, info) : false,
  };
}

async function quarantinedKeys(
  redis: RedisClient,
  keys: Keys,
  entity: string,
  partition: number,
  sink: string,
): Promise<{ quarantined: QuarantinedKey[]; quarantinedCount: number }> {
  const raw = await redis.hgetall(keys.quarantine(entity, partition, sink));
  const states = Object.entries(raw)
    .map(([key, json]) => ({
      key,
      ...(JSON.parse(json) as { head: string; request?: 'redrive' | 'skip' }),
    }))
    .sort((a, b) => compareStreamIds(a.head, b.head));
  const quarantined: QuarantinedKey[] = [];
  // One read per key shown, every sample: a mass failure must not turn into a read storm.
  for (const state of states.slice(0, QUARANTINE_SHOWN)) {
    // The head letter's fields start with its metadata (runtime/sink/dead-letters.ts).
    const [letter] = await redis.xrange(keys.deadLetters(sink), state.head, state.head);
    const fields = letter?.[1] ?? [];
    const at = fields.indexOf('x-error');
    quarantined.push({
      key: state.key,
      head: state.head,
      error: at >= 0 ? (fields[at + 1] ?? '') : '',
      ...(state.request ? { request: state.request } : {}),
    });
  }
  return { quarantined, quarantinedCount: states.length };
}

/** A consumer group as `cdc lag` reads it, and how many entries it has read if Redis knows. */
interface GroupRead extends ConsumerGroupInfo {
  entriesRead: number | undefined;
}

/**
 * The stream's groups: XINFO GROUPS parsed as `consumerGroups` parses it (what `cdc lag`
 * reads), keeping `entries-read` too; none when the stream does not exist.
 */
async function groupsOf(redis: RedisClient, stream: string): Promise<GroupRead[]> {
  let raw: Array<Array<string | number | null>>;
  try {
    raw = (await redis.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>;
  } catch (err) {
    if (isNoSuchKey(err)) return [];
    throw err;
  }
  return raw.map((fields) => {
    const at = fields.indexOf('entries-read');
    const read = at < 0 ? null : fields[at + 1];
    return {
      ...parseGroupFields(fields),
      entriesRead: read === null || read === undefined ? undefined : Number(read),
    };
  });
}

/** XINFO STREAM's counters, or undefined when the stream does not exist. */
async function streamInfo(redis: RedisClient, stream: string): Promise<StreamInfo | undefined> {
  let raw: Array<unknown>;
  try {
    raw = (await redis.xinfo('STREAM', stream)) as Array<unknown>;
  } catch (err) {
    if (isNoSuchKey(err)) return undefined;
    throw err;
  }
  const field = (name: string): unknown => {
    const at = raw.indexOf(name);
    return at < 0 ? undefined : raw[at + 1];
  };
  const first = field('first-entry') as [string, unknown] | null | undefined;
  return {
    length: Number(field('length') ?? 0),
    entriesAdded: Number(field('entries-added') ?? 0),
    maxDeletedId: String(field('max-deleted-entry-id') ?? ZERO_ID),
    firstId: first?.[0],
    lastGeneratedId: String(field('last-generated-id') ?? ZERO_ID),
  };
}
