/**
 * MongoDB sink benchmark: how fast the sink drains a backlog into MongoDB next to writing the same
 * documents straight into MongoDB, and how much memory the service takes, measured in one run.
 *
 *   node --import tsx bench/sink-mongo/run.ts [--rounds 3] [--events 20000] [--keys 2000]
 *                                             [--batch 500] [--breakdown]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_EVENTS, BENCH_KEYS,
 * BENCH_BATCH, BENCH_BREAKDOWN); REDIS_URL and MONGO_URL say where the servers are (the database
 * in MONGO_URL's path is not used: every run writes to a fresh database of its own).
 *
 * Backlog: `--events` changes of the `todo` entity (schemas/todo.avsc) over `--keys` keys drawn
 * with a seeded generator, every 20th a delete, written once with capture.writeMany to 4
 * partitions.
 *
 * Subjects, each from an empty database under a sink name of its own (so its own consumer group,
 * reading the backlog from the start), timed until the applied watermark of every partition is
 * the stream's last id:
 * - the service, `services/sink-mongo/src/main.ts`, as a child process, timed from its
 *   "sink started" log line; its peak resident memory is VmHWM of /proc/<pid>/status, read just
 *   before SIGTERM;
 * - SinkRunner + MongoSink in this process, timed from `start()` resolving, with the time spent
 *   inside `MongoSink.apply` summed.
 *
 * Raw baseline: the same documents (built by the sink's own mapping from the decoded events),
 * grouped as the runner groups them (one read takes up to `--batch` entries of every partition)
 * and reduced to the last event per key, each group sent as one unordered `bulkWrite` of
 * `replaceOne({ _id }, document, { upsert: true })`. No Redis, no version guard, no offsets.
 *
 * `--breakdown` adds two phases on the same groups without Redis: `MongoSink.apply` called
 * directly (guarded data writes + the offsets write), and the sink's guarded `replaceOne` filter
 * alone (no offsets). Together with the above they show where the time between raw and the
 * service goes.
 *
 * Each round runs every phase once, the order reversed every other round so that a noisy
 * neighbour hits all about equally; the report gives medians over the rounds and the median of
 * the per-round ratios to raw. Redis keys live under a fresh prefix, deleted at the end; every run's
 * database is dropped after it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { type AnyBulkWriteOperation, type Document, MongoClient } from 'mongodb';
import { type BatchWrite, type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { DecodedEvent } from '../../runtime/sink/decoded-event.ts';
import type { EntityTarget, PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { latestPerKey } from '../../services/sink-mongo/src/latest-per-key.ts';
import {
  buildDocumentMapping,
  type DocumentId,
  documentId,
  liveDocument,
  tombstoneDocument,
} from '../../services/sink-mongo/src/mongo-document.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { ChildSink } from '../support/child-sink.ts';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate, median, seeded } from '../support/numbers.ts';
import { keysOption, positiveInteger, roundsOption } from '../support/options.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import { TimedSink } from '../support/timed-sink.ts';
import { benchTodo } from '../support/todo-record.ts';

/** What `run.ts` measures and how much. */
interface BenchOptions {
  /** Rounds of every phase; the report gives medians. Default 3. */
  rounds: number;
  /**
   * Rounds of the raw writes and the service run first and not counted. Default 1: the first
   * drains of a run pay the JIT of the server (a JVM for the harness's stand-in) and of the
   * driver, and used to make the first round's ratio an outlier.
   */
  warmup: number;
  /** Changes in the backlog every run applies. Default 20 000. */
  events: number;
  /** Distinct entity keys the changes are spread over (= documents in the end). Default 2000. */
  keys: number;
  /** Entries read per partition per batch (SINK_BATCH_SIZE). Default 500. */
  batch: number;
  /** Also run the phases that show where the sink's time goes. Default off. */
  breakdown: boolean;
  /** Directory for V8 CPU profiles of the child sinks (`--cpu-prof`). Default none. */
  profile?: string;
}

const ENTITY = 'todo';
const KEY_FIELD = 'id';
const PARTITIONS = 4;
/** Every DELETE_EVERY-th change of the backlog is a delete. */
const DELETE_EVERY = 20;
/** Writes per capture.writeMany call when loading the backlog. */
const PRELOAD_BATCH = 1000;
/** SINK_BLOCK_MS of the subjects. */
const BLOCK_MS = 100;
/** The issue's target: the sink drains at least this fraction of the raw bulkWrite rate. */
const TARGET_RATIO = 0.9;
/** Longest a drain may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 120_000;
const POLL_MS = 10;

const SERVICE_MAIN = 'services/sink-mongo/src/main.ts';

/** Labels of the phases, in table order. */
const PHASES = {
  raw: 'raw bulkWrite, replaceOne by _id',
  child: 'sink service (child process)',
  inProcess: 'SinkRunner + MongoSink in-process',
  apply: 'MongoSink.apply only, no Redis',
  guarded: 'guarded replaceOne only, no offsets',
} as const;
type Phase = keyof typeof PHASES;

function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench-sink-mongo')
    .description('MongoDB sink drain rate and memory beside raw bulkWrite upserts, in one run')
    .addOption(roundsOption(3))
    .addOption(
      new Option('--events <n>', 'changes in the backlog')
        .env('BENCH_EVENTS')
        .argParser(positiveInteger)
        .default(20_000),
    )
    .addOption(keysOption(2000))
    .addOption(
      new Option('--batch <n>', 'entries read per partition per batch')
        .env('BENCH_BATCH')
        .argParser(positiveInteger)
        .default(500),
    )
    .addOption(
      new Option('--warmup <n>', 'uncounted rounds of the raw writes and the service first')
        .env('BENCH_WARMUP')
        .argParser((v) => (v === '0' ? 0 : positiveInteger(v)))
        .default(1),
    )
    .addOption(
      new Option('--breakdown', 'also show where the sink spends its time')
        .env('BENCH_BREAKDOWN')
        .default(false),
    )
    .addOption(
      new Option(
        '--profile <dir>',
        'write V8 CPU profiles of the child sinks here (bench/sink-postgres/profile-summary.ts reads them)',
      ).env('BENCH_PROFILE'),
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** The server URL pointing at another database. */
function urlFor(baseUrl: string, database: string): string {
  return baseUrl.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${database}`);
}

// ---------------------------------------------------------------------------------------------
// The shared state of a run

interface Context {
  options: BenchOptions;
  redisUrl: string;
  mongoUrl: string;
  prefix: string;
  redis: Redis;
  mongo: MongoClient;
  capture: Capture;
  target: EntityTarget;
  /** Last stream id of every partition. */
  heads: string[];
  /** The backlog as the runner would apply it: one entry per read, one batch per partition. */
  groups: PartitionBatch[][];
  /** Distinct keys of the backlog: the documents every phase must leave. */
  documents: number;
  /** Fresh database names, each dropped after its run (and again at the end). */
  databases: string[];
  /** Children still to stop if the run fails. */
  children: Set<ChildSink>;
}

interface Measured {
  eventsPerSecond: number;
  /** Child only: peak resident set, MB. */
  peakRssMb?: number;
  /** Child only: CPU time (user + system) the service spent on the drain, ms. */
  cpuMs?: number;
  /** In-process only: share of the drain spent inside MongoSink.apply. */
  applyShare?: number;
}

/** Writes the backlog once; returns the last id of every partition stream. */
async function loadBacklog(
  redis: Redis,
  capture: Capture,
  options: BenchOptions,
): Promise<string[]> {
  const random = seeded(0x5eed);
  for (let from = 0; from < options.events; from += PRELOAD_BATCH) {
    const writes: BatchWrite[] = [];
    for (let i = from; i < Math.min(options.events, from + PRELOAD_BATCH); i++) {
      const key = Math.floor(random() * options.keys);
      writes.push(
        i % DELETE_EVERY === DELETE_EVERY - 1
          ? { op: 'delete', key: `todo-${key}` }
          : { op: 'upsert', record: benchTodo(i, key) },
      );
    }
    await capture.writeMany(ENTITY, writes);
  }
  const heads: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const [entry] = await redis.xrevrange(capture.keys.stream(ENTITY, p), '+', '-', 'COUNT', 1);
    heads.push(entry?.[0] ?? '');
  }
  return heads;
}

/**
 * The backlog grouped as the runner applies it: with every entry already in the streams, each
 * XREADGROUP returns the next `batch` entries of every partition, and they go to `sink.apply`
 * together. The events are what the runner hands a sink that reads payloads: envelope decoded,
 * record decoded only when read (the raw baseline's documents read it, before any timing).
 */
async function readGroups(
  redis: Redis,
  capture: Capture,
  batch: number,
): Promise<PartitionBatch[][]> {
  const schema = capture.schemaOf(ENTITY);
  const partitions: SinkEvent[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const entries = await redis.xrangeBuffer(capture.keys.stream(ENTITY, p), '-', '+');
    partitions.push(
      entries.map(([rawId, fields]) => {
        const event = decodeEnvelope(rawId.toString(), fields);
        return new DecodedEvent(
          event,
          schema,
          event.op === 'upsert' ? schema : undefined,
          undefined,
        );
      }),
    );
  }
  const groups: PartitionBatch[][] = [];
  const reads = Math.max(...partitions.map((events) => Math.ceil(events.length / batch)));
  for (let r = 0; r < reads; r++) {
    const group: PartitionBatch[] = [];
    partitions.forEach((events, partition) => {
      const slice = events.slice(r * batch, (r + 1) * batch);
      if (slice.length > 0)
        group.push({ entity: ENTITY, partition, events: slice, offset: slice.at(-1)!.id });
    });
    groups.push(group);
  }
  return groups;
}

/** One document write per key of each group (its last event), as the sink reduces them. */
interface PlannedWrite {
  id: DocumentId;
  version: string;
  replacement: Document;
}

function planWrites(ctx: Context): PlannedWrite[][] {
  const mapping = buildDocumentMapping(ENTITY, ctx.target.schema.type, KEY_FIELD, ENTITY);
  return ctx.groups.map((group) =>
    latestPerKey(
      group.flatMap((b) => b.events),
      (event) => String(documentId(mapping, event.key)),
    ).map((event) => ({
      id: documentId(mapping, event.key),
      version: encodeVersion(event.id),
      replacement: event.op === 'upsert' ? liveDocument(mapping, event) : tombstoneDocument(event),
    })),
  );
}

/**
 * The sink's version guard, as in services/sink-mongo/src/mongo-sink.ts: only a document whose
 * `_v` is older, or that has none, is replaced.
 */
function guardedFilter(write: PlannedWrite): Document {
  return { _id: write.id, $or: [{ _v: { $lt: write.version } }, { _v: { $exists: false } }] };
}

// ---------------------------------------------------------------------------------------------
// Phases. Each gets a fresh database and, when it goes through Redis, a sink name of its own.

function freshDatabase(ctx: Context, label: string): string {
  const name = `${ctx.prefix}_${label}`;
  ctx.databases.push(name);
  return name;
}

/** Every phase must leave one document per key of the backlog, tombstones included. */
async function checkDocuments(ctx: Context, name: string, phase: string): Promise<void> {
  const documents = await ctx.mongo.db(name).collection(ENTITY).countDocuments();
  if (documents !== ctx.documents) {
    throw new Error(`${phase} left ${documents} documents, expected ${ctx.documents}`);
  }
}

async function dropDatabase(ctx: Context, name: string): Promise<void> {
  await ctx.mongo.db(name).dropDatabase();
}

/** bulkWrite of every group's writes with `filterOf`, one group after the other. */
async function directBulk(
  ctx: Context,
  label: string,
  filterOf: (write: PlannedWrite) => Document,
): Promise<Measured> {
  const database = freshDatabase(ctx, label);
  const collection = ctx.mongo.db(database).collection(ENTITY);
  const operations: AnyBulkWriteOperation[][] = planWrites(ctx).map((writes) =>
    writes.map((w) => ({
      replaceOne: { filter: filterOf(w), replacement: w.replacement, upsert: true },
    })),
  );
  try {
    await ctx.mongo.db(database).createCollection(ENTITY);
    const started = performance.now();
    for (const group of operations) await collection.bulkWrite(group, { ordered: false });
    const seconds = (performance.now() - started) / 1000;
    await checkDocuments(ctx, database, label);
    return { eventsPerSecond: ctx.options.events / seconds };
  } finally {
    await dropDatabase(ctx, database);
  }
}

/** MongoSink.apply on every group, one after the other: the sink's whole database side. */
async function directApply(ctx: Context, label: string): Promise<Measured> {
  const database = freshDatabase(ctx, label);
  const sink = new MongoSink({ url: urlFor(ctx.mongoUrl, database), name: label });
  try {
    await sink.connect();
    await sink.ensureTargets([ctx.target]);
    const started = performance.now();
    for (const group of ctx.groups) await sink.apply(group);
    const seconds = (performance.now() - started) / 1000;
    await checkDocuments(ctx, database, label);
    return { eventsPerSecond: ctx.options.events / seconds };
  } finally {
    await sink.close();
    await dropDatabase(ctx, database);
  }
}

/** Resolves once the applied watermark of every partition of `sink` is its stream's last id. */
async function caughtUp(ctx: Context, sink: string, what: () => string): Promise<void> {
  const keys = ctx.heads.map((_, p) => ctx.capture.keys.watermark(ENTITY, p, sink));
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const watermarks = await ctx.redis.mget(...keys);
    if (watermarks.every((w, p) => w === ctx.heads[p])) return;
    if (Date.now() > deadline) {
      throw new Error(`${sink} did not catch up within ${DRAIN_TIMEOUT_MS} ms\n${what()}`);
    }
    await sleep(POLL_MS);
  }
}

async function inProcess(ctx: Context, label: string): Promise<Measured> {
  const database = freshDatabase(ctx, label);
  const sink = new TimedSink(new MongoSink({ url: urlFor(ctx.mongoUrl, database), name: label }));
  const runner = new SinkRunner({
    sink,
    redis: { url: ctx.redisUrl },
    prefix: ctx.prefix,
    entities: [ENTITY],
    consumer: `${label}-bench`,
    // The runner shares its batch size over the streams; `--batch` is per partition here.
    batchSize: ctx.options.batch * PARTITIONS,
    blockMs: BLOCK_MS,
  });
  try {
    await runner.start();
    const started = performance.now();
    await caughtUp(ctx, label, () => '');
    const ms = performance.now() - started;
    await checkDocuments(ctx, database, label);
    return { eventsPerSecond: ctx.options.events / (ms / 1000), applyShare: sink.applyMs / ms };
  } finally {
    await runner.stop();
    await dropDatabase(ctx, database);
  }
}

/** The service as a child process, from its "sink started" line until it has caught up. */
async function childService(ctx: Context, label: string): Promise<Measured> {
  const database = freshDatabase(ctx, label);
  const child = ChildSink.spawn({
    main: SERVICE_MAIN,
    redisUrl: ctx.redisUrl,
    prefix: ctx.prefix,
    sinkName: label,
    batchSize: ctx.options.batch * PARTITIONS,
    blockMs: BLOCK_MS,
    env: { MONGO_URL: urlFor(ctx.mongoUrl, database), SINK_ENTITIES: ENTITY },
    unset: ['MONGO_TRANSACTIONS'],
    nodeArgs: ctx.options.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.options.profile, label)}`]
      : [],
  });
  ctx.children.add(child);
  try {
    await child.started;
    const from = performance.now();
    const cpuFrom = (await child.sample()).cpuMs;
    await caughtUp(ctx, label, () => child.recentOutput());
    const ms = performance.now() - from;
    const { peakRssMb, cpuMs } = await child.sample();
    await checkDocuments(ctx, database, label);
    return { eventsPerSecond: ctx.options.events / (ms / 1000), peakRssMb, cpuMs: cpuMs - cpuFrom };
  } finally {
    try {
      await child.stop();
    } finally {
      ctx.children.delete(child);
      await dropDatabase(ctx, database);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const mongoUrl = process.env.MONGO_URL?.trim() || 'mongodb://127.0.0.1:27017/cdc';
  const prefix = `bench_sink_mongo_${randomBytes(4).toString('hex')}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  await mongo.connect();
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;
  let capture: Capture | undefined;
  const databases: string[] = [];
  const children = new Set<ChildSink>();
  try {
    capture = await createCapture({
      redis: { url: redisUrl },
      prefix,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    log(
      `sink-mongo bench: ${options.rounds} rounds, ${options.events} events over ${options.keys} ` +
        `keys, batch ${options.batch} per partition${options.breakdown ? ', with breakdown' : ''}`,
    );
    const heads = await loadBacklog(redis, capture, options);
    const ctx: Context = {
      options,
      redisUrl,
      mongoUrl,
      prefix,
      redis,
      mongo,
      capture,
      target: { entity: ENTITY, schema: capture.schemaOf(ENTITY), keyField: KEY_FIELD },
      heads,
      groups: await readGroups(redis, capture, options.batch),
      documents: 0,
      databases,
      children,
    };
    const planned = planWrites(ctx);
    const documentWrites = planned.reduce((n, writes) => n + writes.length, 0);
    ctx.documents = new Set(planned.flatMap((writes) => writes.map((w) => w.id))).size;

    const run: Record<Phase, (label: string) => Promise<Measured>> = {
      raw: (label) => directBulk(ctx, label, (w) => ({ _id: w.id })),
      child: (label) => childService(ctx, label),
      inProcess: (label) => inProcess(ctx, label),
      apply: (label) => directApply(ctx, label),
      guarded: (label) => directBulk(ctx, label, guardedFilter),
    };
    // The machine's 1-minute load average at the start and end of the rounds: on shared cores a
    // run beside other work says little, and the report shows how busy the machine was.
    const loadBefore = loadavg()[0]!;
    const phases: Phase[] = ['raw', 'child', 'inProcess'];
    if (options.breakdown) phases.push('apply', 'guarded');
    const results = new Map<Phase, Measured[]>(phases.map((p) => [p, []]));
    for (let round = 0; round < options.warmup; round++) {
      await run.raw(`w${round + 1}_raw`);
      await run.child(`w${round + 1}_child`);
    }
    if (options.warmup > 0) log(`${options.warmup} warm-up round(s) done, not counted`);
    for (let round = 0; round < options.rounds; round++) {
      // Reverse the order every other round so drift in the machine's load hits every phase.
      const order = round % 2 === 0 ? phases : [...phases].reverse();
      for (const phase of order) {
        results.get(phase)!.push(await run[phase](`r${round + 1}_${phase}`));
      }
      log(
        `round ${round + 1}: ${phases
          .map((p) => `${p} ${fmtRate(results.get(p)!.at(-1)!.eventsPerSecond)}/s`)
          .join(', ')}`,
      );
    }

    const loadAfter = loadavg()[0]!;
    const rates = (phase: Phase) => results.get(phase)!.map((m) => m.eventsPerSecond);
    const ratios = (phase: Phase) => rates(phase).map((rate, round) => rate / rates('raw')[round]!);
    const summary = Object.fromEntries(
      phases.map((phase) => [
        phase,
        {
          eventsPerSecond: median(rates(phase)),
          ratioToRaw: median(ratios(phase)),
          perRoundRatios: ratios(phase).map((r) => Number(r.toFixed(3))),
          // Wall time per document write, µs: the backlog reduces to `documentWrites` writes.
          microsPerDocument: (1e6 * options.events) / median(rates(phase)) / documentWrites,
        },
      ]),
    ) as Record<
      Phase,
      {
        eventsPerSecond: number;
        ratioToRaw: number;
        perRoundRatios: number[];
        microsPerDocument: number;
      }
    >;
    const peakRss = median(results.get('child')!.map((m) => m.peakRssMb!));
    // CPU the service spent per document write: what it costs the two cores it shares with the
    // server, less at the mercy of other work on the machine than its rate.
    const cpuPerDocument =
      (median(results.get('child')!.map((m) => m.cpuMs!)) * 1000) / documentWrites;
    const applyShare = median(results.get('inProcess')!.map((m) => m.applyShare!));
    const mongoVersion = String(
      (
        await mongo
          .db('admin')
          .command({ buildInfo: 1 })
          .catch(() => ({ version: 'unknown' }))
      ).version,
    );

    const table = markdownTable(
      ['phase', 'events/s', 'µs / document', 'vs raw'],
      phases.map((phase) => {
        const ratio = `${fmt(summary[phase].ratioToRaw)}x`;
        return [
          PHASES[phase],
          fmtRate(summary[phase].eventsPerSecond),
          fmt(summary[phase].microsPerDocument, 0),
          phase === 'child' ? `**${ratio}**` : ratio,
        ];
      }),
    );
    console.log(table);
    console.log('');
    console.log(
      `${options.events} events reduce to ${documentWrites} document writes in ${ctx.groups.length} ` +
        `batches. Sink service peak RSS (VmHWM): ${fmt(peakRss, 1)} MB, CPU ` +
        `${fmt(cpuPerDocument, 0)} µs per document write. In-process, ` +
        `${fmt(applyShare * 100, 0)}% of the drain is spent inside MongoSink.apply. Per-round ` +
        `service/raw ratios: ${summary.child.perRoundRatios.join(', ')}. Target >= ${TARGET_RATIO}x: ` +
        `${summary.child.ratioToRaw >= TARGET_RATIO ? 'met' : 'not met'}. Load average ` +
        `${fmt(loadBefore, 1)} before the rounds, ${fmt(loadAfter, 1)} after.`,
    );
    console.log(
      JSON.stringify({
        bench: 'sink-mongo',
        date: new Date().toISOString().slice(0, 10),
        node: process.version,
        cpus: cpus().length,
        loadAverage: [Number(loadBefore.toFixed(2)), Number(loadAfter.toFixed(2))],
        redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
        mongo: mongoVersion,
        options,
        partitions: PARTITIONS,
        batches: ctx.groups.length,
        documentWrites,
        phases: summary,
        peakRssMb: Number(peakRss.toFixed(1)),
        serviceCpuMicrosPerDocument: Number(cpuPerDocument.toFixed(1)),
        inProcessApplyShare: Number(applyShare.toFixed(3)),
        target: TARGET_RATIO,
        met: summary.child.ratioToRaw >= TARGET_RATIO,
      }),
    );
  } finally {
    for (const child of children) child.kill();
    for (const name of databases)
      await mongo
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
    await capture?.close();
    await deleteUnder(redis, `${prefix}:*`);
    await redis.quit();
    await mongo.close();
  }
}

await main();
