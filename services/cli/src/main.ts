import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { EntityMetadataStore } from '../../../runtime/capture/entity-metadata.ts';
import { envString, redisFromEnv } from '../../../runtime/config/env.ts';
import { consumerGroups } from '../../../runtime/consumer-groups.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { kafkaConnectionFromEnv } from '../../../runtime/kafka/kafka-connection.ts';
import { Keys } from '../../../runtime/keys.ts';
import { partitionLag } from '../../../runtime/lag.ts';
import { partitionOf } from '../../../runtime/partition.ts';
import { connectRedis } from '../../../runtime/redis-connection.ts';
import { parseDuration } from '../../../runtime/retention/duration.ts';
import { StreamRetention } from '../../../runtime/retention/stream-retention.ts';
import { DeadLetters } from '../../../runtime/sink/dead-letters.ts';
import { ReplayRequests } from '../../../runtime/sink/replay-requests.ts';
import { requestKafkaReplay } from '../../../runtime/sink/source/kafka-replay.ts';
import { KafkaSourcedSinks } from '../../../runtime/sink/source/kafka-sourced-sinks.ts';
import { countEntries } from '../../../runtime/stream-count.ts';
import { isStreamId, ZERO_ID } from '../../../runtime/stream-id.ts';
import { kafkaLagReport, kafkaSinkRowOver, printKafkaLagReport } from './kafka-lag-report.ts';

/**
 * Operator commands: consumer lag per sink and partition, dead letters, re-drive and skip of a
 * quarantined key, replays, safe trimming of the partition streams. Environment: REDIS_URL (+
 * REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*), CDC_PREFIX, CDC_RETENTION_MIN_AGE; KAFKA_BROKERS
 * (+ KAFKA_*) to replay a sink that reads Kafka, and for the Kafka figures of `lag`.
 */
const program = new Command('cdc')
  .description('operate the change-data-capture log')
  .option('--prefix <prefix>', 'Redis key prefix', envString(process.env, 'CDC_PREFIX', 'cdc'))
  .option('--json', 'print results as JSON instead of a table')
  // Usage errors exit with 2 (commander's default is 1, which means a request that failed).
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

async function withRedis<T>(work: (redis: Redis, keys: Keys) => Promise<T>): Promise<T> {
  const redis = connectRedis({
    ...redisFromEnv(process.env),
    options: { maxRetriesPerRequest: 1 },
  });
  try {
    return await work(redis, new Keys(program.opts<{ prefix: string }>().prefix));
  } finally {
    redis.disconnect();
  }
}

/** Prints rows as a table, or as JSON with the global --json (for scripts and monitoring). */
function print(rows: ReadonlyArray<Record<string, unknown>>): void {
  if (program.opts<{ json?: boolean }>().json) console.log(JSON.stringify(rows));
  else console.table(rows);
}

/**
 * Every partition of every entity, or of one: undefined (with the error printed and exit code 1)
 * when that entity is unknown.
 */
async function partitionsOf(
  redis: Redis,
  keys: Keys,
  only?: string,
): Promise<Array<{ entity: string; partition: number }> | undefined> {
  const metadata = await new EntityMetadataStore(redis, keys).all();
  if (only !== undefined && !metadata.has(only)) {
    console.error(`unknown entity "${only}"`);
    process.exitCode = 1;
    return undefined;
  }
  return [...metadata]
    .filter(([entity]) => only === undefined || entity === only)
    .flatMap(([entity, meta]) =>
      Array.from({ length: meta.partitions }, (_, partition) => ({ entity, partition })),
    );
}

/** Entries behind per sink, entity and partition: what `cdc lag` reports (runtime/lag.ts). */
async function lagRows(redis: Redis, keys: Keys, sink?: string) {
  const rows: Array<Record<string, string | number>> = [];
  for (const { entity, partition } of (await partitionsOf(redis, keys)) ?? []) {
    const stream = keys.stream(entity, partition);
    for (const group of await consumerGroups(redis, stream)) {
      if (sink && group.name !== sink) continue;
      const applied = (await redis.get(keys.watermark(entity, partition, group.name))) ?? ZERO_ID;
      const lag = await partitionLag(redis, stream, group, applied);
      rows.push({
        sink: group.name,
        entity,
        partition,
        applied,
        behind: lag.behind ?? 'unknown',
        pending: lag.pending,
        'oldest unapplied (s)': Number((lag.oldestUnappliedMs / 1000).toFixed(1)),
      });
    }
  }
  return rows;
}

program
  .command('lag')
  .description(
    'entries each sink has not applied yet, per partition, and the age of the oldest; for sinks reading Kafka and for Kafka bridges, their Kafka figures',
  )
  .option('--sink <name>', 'only this sink')
  .option('--watch <seconds>', 'print again every so many seconds, until interrupted')
  .option(
    '--max-behind <entries>',
    'exit with code 3 when a partition is further behind than this (or its lag is unknown)',
  )
  .action(async (options: { sink?: string; watch?: string; maxBehind?: string }) => {
    const every = options.watch === undefined ? undefined : Number(options.watch);
    const max = options.maxBehind === undefined ? undefined : Number(options.maxBehind);
    if ((every !== undefined && !(every > 0)) || (max !== undefined && !(max >= 0))) {
      console.error('--watch takes a positive number of seconds, --max-behind a count of entries');
      process.exitCode = 2;
      return;
    }
    await withRedis(async (redis, keys) => {
      for (;;) {
        const rows = await lagRows(redis, keys, options.sink);
        const kafka = await kafkaLagReport(redis, keys, process.env, {
          sink: options.sink,
          groups: rows.map((r) => String(r.sink)),
        });
        const json = program.opts<{ json?: boolean }>().json;
        if (every !== undefined && !json) console.clear();
        if (json) console.log(JSON.stringify({ streams: rows, ...kafka }));
        else {
          console.table(rows);
          printKafkaLagReport(kafka);
        }
        const over =
          max !== undefined &&
          (rows.some((r) => typeof r.behind !== 'number' || r.behind > max) ||
            kafka.kafkaSinks.some((r) => kafkaSinkRowOver(r, max)));
        process.exitCode = over ? 3 : 0;
        if (every === undefined) return;
        await sleep(every * 1000);
      }
    });
  });

program
  .command('dead-letters')
  .description('list a sink’s dead letters and quarantined keys')
  .requiredOption('--sink <name>', 'sink name')
  .option('--key <key>', 'only this key')
  .action(async (options: { sink: string; key?: string }) => {
    await withRedis(async (redis, keys) => {
      const letters = await new DeadLetters(redis, keys, options.sink).list(
        options.key ? { key: options.key } : {},
      );
      print(
        letters.map((l) => ({
          id: l.id,
          kind: l.kind,
          entity: l.entity,
          partition: l.partition,
          key: l.key,
          source: l.sourceId,
          error: l.error.slice(0, 100),
        })),
      );
    });
  });

for (const action of ['redrive', 'skip'] as const) {
  program
    .command(action)
    .description(
      action === 'redrive'
        ? 'apply a quarantined key’s dead letters again, in order (after fixing the cause)'
        : 'drop a quarantined key’s failed event, then apply its held events',
    )
    .requiredOption('--sink <name>', 'sink name')
    .requiredOption('--entity <entity>', 'entity')
    .requiredOption('--key <key>', 'entity key')
    .action(async (options: { sink: string; entity: string; key: string }) => {
      await withRedis(async (redis, keys) => {
        const meta = await new EntityMetadataStore(redis, keys).get(options.entity);
        const letters = new DeadLetters(redis, keys, options.sink);
        // A sink reading Kafka quarantines keys in the topic's partitions: its letters say which.
        const fromKafka = (await new KafkaSourcedSinks(redis, keys).topicsOf(options.sink)).has(
          options.entity,
        );
        const partition = fromKafka
          ? ((await letters.list({ entity: options.entity, key: options.key }))[0]?.partition ?? -1)
          : partitionOf(options.key, meta.partitions);
        const ok =
          action === 'redrive'
            ? await letters.requestRedrive(options.entity, partition, options.key)
            : await letters.requestSkip(options.entity, partition, options.key);
        if (!ok) {
          console.error(
            `${options.entity} "${options.key}" is not quarantined by sink ${options.sink}`,
          );
          process.exitCode = 1;
          return;
        }
        console.log(
          `${action} requested; the instance that owns ${options.entity} partition ${partition} carries it out between two batches`,
        );
      });
    });
}

program
  .command('replay')
  .description(
    'consume a sink’s partitions again from a point of the log (after an outage or a restore that lost writes); the instances that own them carry it out between two batches',
  )
  .requiredOption('--sink <name>', 'sink name')
  .option('--entity <entity>', 'only this entity')
  .option('--from-start', 'from the oldest entry still in the streams')
  .option('--from-time <iso>', 'from the first entry captured at or after this time')
  .option(
    '--from-offset <id>',
    'from this stream id on (inclusive); a Kafka offset for a sink reading Kafka',
  )
  .option('--dry-run', 'report how many entries each partition would read again, ask for nothing')
  .action(
    async (options: {
      sink: string;
      entity?: string;
      fromStart?: boolean;
      fromTime?: string;
      fromOffset?: string;
      dryRun?: boolean;
    }) => {
      const starts = [options.fromStart, options.fromTime, options.fromOffset].filter(
        (o) => o !== undefined,
      );
      const time = options.fromTime === undefined ? undefined : Date.parse(options.fromTime);
      // A sink reading Kafka replays from Kafka offsets or times.
      const topics = await withRedis((redis, keys) =>
        new KafkaSourcedSinks(redis, keys).topicsOf(options.sink),
      );
      if (topics.size > 0) {
        if (
          starts.length !== 1 ||
          (time !== undefined && Number.isNaN(time)) ||
          (options.fromOffset !== undefined && !/^\d+$/.test(options.fromOffset))
        ) {
          console.error(
            `sink "${options.sink}" reads Kafka: give one of --from-start, --from-time <ISO time>, --from-offset <Kafka offset>, well formed`,
          );
          process.exitCode = 2;
          return;
        }
        const only = new Map([...topics].filter(([e]) => !options.entity || e === options.entity));
        const planned = await withRedis((redis, keys) =>
          requestKafkaReplay({
            kafka: kafkaConnectionFromEnv(process.env, 'cdc-cli'),
            redis,
            keys,
            sink: options.sink,
            topics: only,
            start:
              time !== undefined
                ? { from: 'time', ms: time }
                : options.fromOffset !== undefined
                  ? { from: 'offset', offset: BigInt(options.fromOffset) }
                  : { from: 'start' },
            dryRun: options.dryRun === true,
          }),
        );
        print(
          planned.map((p) => ({
            entity: p.entity,
            partition: p.partition,
            topic: p.topic,
            'after offset': p.after,
            'entries to read again': p.entries,
          })),
        );
        if (planned.length === 0) process.exitCode = 1;
        return;
      }
      if (
        starts.length !== 1 ||
        (time !== undefined && Number.isNaN(time)) ||
        (options.fromOffset !== undefined && !isStreamId(options.fromOffset))
      ) {
        console.error(
          'give one of --from-start, --from-time <ISO time>, --from-offset <stream id>, well formed',
        );
        process.exitCode = 2;
        return;
      }
      // Entries after this one are read again ("(" makes an XREVRANGE end exclusive).
      const before =
        time !== undefined
          ? `(${time}-0`
          : options.fromOffset
            ? `(${options.fromOffset}`
            : undefined;
      await withRedis(async (redis, keys) => {
        const partitions = await partitionsOf(redis, keys, options.entity);
        if (!partitions) return;
        const rows: Array<Record<string, string | number>> = [];
        const requests = new ReplayRequests(redis, keys, options.sink);
        for (const { entity, partition } of partitions) {
          const stream = keys.stream(entity, partition);
          if (!(await consumerGroups(redis, stream)).some((g) => g.name === options.sink)) continue;
          const [previous] = before ? await redis.xrevrange(stream, before, '-', 'COUNT', 1) : [];
          const from = previous?.[0] ?? ZERO_ID;
          const entries = await countEntries(redis, stream, `(${from}`, '+');
          if (!options.dryRun) await requests.request(entity, partition, from);
          rows.push({ entity, partition, 'after id': from, 'entries to read again': entries });
        }
        if (rows.length === 0) {
          console.error(
            `sink "${options.sink}" consumes no partition${options.entity ? ` of "${options.entity}"` : ''}`,
          );
          process.exitCode = 1;
          return;
        }
        print(rows);
        if (!options.dryRun && !program.opts<{ json?: boolean }>().json)
          console.log(
            'replay requested; the instance that owns each partition carries it out between two batches (watch it with `cdc lag`)',
          );
      });
    },
  );

program
  .command('trim')
  .description(
    'safe retention: trim each partition stream below what every consumer group still needs and every sink has applied, never within the minimum age',
  )
  .option('--entity <entity>', 'only this entity')
  .option(
    '--min-age <duration>',
    'keep entries younger than this (e.g. 30m, 24h, 7d): a replay from an older backup needs them',
    envString(process.env, 'CDC_RETENTION_MIN_AGE', '24h'),
  )
  .option('--dry-run', 'report what would be removed, remove nothing')
  .action(async (options: { entity?: string; minAge: string; dryRun?: boolean }) => {
    let minAgeMs: number;
    try {
      minAgeMs = parseDuration(options.minAge);
    } catch (err) {
      console.error((err as Error).message);
      process.exitCode = 2;
      return;
    }
    await withRedis(async (redis, keys) => {
      const partitions = await partitionsOf(redis, keys, options.entity);
      if (!partitions) return;
      const retention = new StreamRetention(redis, keys);
      const rows: Array<Record<string, string | number>> = [];
      for (const { entity, partition } of partitions) {
        const plan = await retention.plan(entity, partition, minAgeMs);
        const removed = options.dryRun ? 0 : await retention.trim(plan);
        rows.push({
          entity,
          partition,
          entries: plan.length,
          'trim below': plan.bound?.minId ?? '(no consumer groups: kept)',
          'held by': plan.bound?.heldBy ?? '',
          [options.dryRun ? 'would remove' : 'removed']: options.dryRun ? plan.removable : removed,
        });
      }
      print(rows);
    });
  });

try {
  await program.parseAsync();
} catch (err) {
  // The project's own errors say what was wrong and what to do: one line, no stack. A bad
  // configuration exits with 2 like a usage error, a failed request with 1; anything else is a
  // bug and keeps its stack.
  if (!(err instanceof CdcError)) throw err;
  console.error(`cdc: ${err.message}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
