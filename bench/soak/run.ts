/**
 * Soak: both sinks (PostgreSQL and MongoDB) as child processes, as `npm run up` runs them, while
 * capture writes a steady rate for a few minutes over many keys; samples each sink's lag the way
 * `cdc lag` reads it and says whether it stayed bounded.
 *
 *   node --import tsx bench/soak/run.ts [--rate 1500] [--seconds 180] [--keys 100000]
 *                                       [--sample-every 2] [--max-behind <n>] [--drain-seconds 30]
 *                                       [--sink-batch 1000] [--sink-block-ms 1000]
 *
 * Every option can also come from the environment (BENCH_RATE, BENCH_SECONDS, …; see options.ts);
 * REDIS_URL, POSTGRES_URL and MONGO_URL say where the servers are. Everything is written under a
 * fresh key prefix, a fresh PostgreSQL schema and a fresh MongoDB database, all removed at the end.
 *
 * A sink's lag is bounded when, all through the second half of the load, it is at most
 * `--max-behind` entries behind (all partitions together; default 10 s of writes), and once the
 * load stops it applies everything within `--drain-seconds`. Exit code 1 when a sink's is not, or
 * when a target does not hold what was written.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { ChildSink } from '../support/child-sink.ts';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate } from '../support/numbers.ts';
import type { ProcessSample } from '../support/process-sample.ts';
import { type LagSample, LagSampler } from './lag-sampler.ts';
import { type LagSummary, summarizeLag } from './lag-summary.ts';
import { parseSoakOptions } from './options.ts';
import { removeSoakTargets } from './soak-targets.ts';
import { steadyLoad } from './steady-load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTITY = 'todo';
const PARTITIONS = 4;
/** How often the drain after the load checks whether the sinks have caught up. */
const DRAIN_POLL_MS = 250;
const SINKS = ['postgres', 'mongo'] as const;
type SinkName = (typeof SINKS)[number];

/** The server URL pointing at another database. */
function mongoUrlFor(baseUrl: string, database: string): string {
  return baseUrl.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${database}`);
}

async function main(): Promise<void> {
  const options = parseSoakOptions(process.argv);
  const maxBehind = options.maxBehind ?? options.rate * 10;
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
  const mongoUrl = process.env.MONGO_URL?.trim() || 'mongodb://127.0.0.1:27017/cdc';
  // One name for the key prefix, the PostgreSQL schema and the MongoDB database.
  const ns = `bench_soak_${randomBytes(4).toString('hex')}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  await mongo.connect();
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  admin.on('error', () => undefined);
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;
  const children = new Map<SinkName, ChildSink>();
  let capture: Capture | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const child of children.values()) child.kill();
      await removeSoakTargets({ ns, redis, mongo, admin, capture, log });
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    capture = await createCapture({
      redis: { url: redisUrl },
      prefix: ns,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    const common = {
      redisUrl,
      prefix: ns,
      batchSize: options.sinkBatch,
      blockMs: options.sinkBlockMs,
    };
    children.set(
      'postgres',
      ChildSink.spawn({
        ...common,
        main: 'services/sink-postgres/src/main.ts',
        sinkName: 'postgres',
        env: {
          POSTGRES_URL: postgresUrl,
          POSTGRES_SCHEMA: ns,
          SINK_ENTITIES: ENTITY,
          SCHEMAS_DIR: `${ROOT}schemas`,
        },
      }),
    );
    children.set(
      'mongo',
      ChildSink.spawn({
        ...common,
        main: 'services/sink-mongo/src/main.ts',
        sinkName: 'mongo',
        env: { MONGO_URL: mongoUrlFor(mongoUrl, ns), SINK_ENTITIES: ENTITY },
        unset: ['MONGO_TRANSACTIONS'],
      }),
    );
    await Promise.all([...children.values()].map((child) => child.started));
    const cpuBefore = new Map<SinkName, ProcessSample>();
    for (const [name, child] of children) cpuBefore.set(name, await child.sample());
    const loadAverageBefore = loadavg()[0]!;
    log(
      `soak: ${fmtRate(options.rate)} writes/s for ${options.seconds} s over ` +
        `${fmtRate(options.keys)} keys, ${PARTITIONS} partitions; bounded: at most ` +
        `${fmtRate(maxBehind)} behind in the second half, caught up within ${options.drainSeconds} s`,
    );

    // Lag samples, every --sample-every seconds, from the start of the load to the end of the drain.
    const sampler = new LagSampler(redis, capture.keys, ENTITY, PARTITIONS);
    const samples = new Map<SinkName, LagSample[]>(SINKS.map((s) => [s, []]));
    const loadStart = performance.now();
    const at = () => performance.now() - loadStart;
    let sampling = true;
    // The machine's 1-minute load average at every sample: on shared cores, other work running
    // at the same time is what a lag spike most often comes from, and the report should show it.
    let loadAverageMax = loadAverageBefore;
    const samplingDone = (async () => {
      for (let n = 0; sampling; n++) {
        loadAverageMax = Math.max(loadAverageMax, loadavg()[0]!);
        const line: string[] = [];
        for (const sink of SINKS) {
          const sample = await sampler.sample(sink, at());
          samples.get(sink)!.push(sample);
          line.push(`${sink} ${sample.behind ?? 'unknown'} behind`);
        }
        log(`${fmt(at() / 1000, 0)} s: ${line.join(', ')} (load average ${fmt(loadavg()[0]!, 1)})`);
        const next = loadStart + (n + 1) * options.sampleEvery * 1000 - performance.now();
        if (next > 0) await sleep(next);
      }
    })();

    let load: Awaited<ReturnType<typeof steadyLoad>>;
    try {
      load = await steadyLoad(capture, ENTITY, options);
    } catch (error) {
      sampling = false;
      await samplingDone;
      throw error;
    }
    const loadMs = at();
    log(`load done: ${fmtRate(load.written)} writes at ${fmtRate(load.writtenPerSecond)}/s`);

    // The drain: how long after the load each sink needs to apply everything.
    const caughtUpAfter = new Map<SinkName, number>();
    const drainDeadline = loadMs + options.drainSeconds * 1000;
    while (caughtUpAfter.size < SINKS.length && at() < drainDeadline) {
      for (const sink of SINKS) {
        if (caughtUpAfter.has(sink)) continue;
        const { behind } = await sampler.sample(sink, at());
        if (behind === 0) caughtUpAfter.set(sink, Math.max(0, at() - loadMs));
      }
      await sleep(DRAIN_POLL_MS);
    }
    sampling = false;
    await samplingDone;
    const loadAverageAfter = loadavg()[0]!;

    const processes = new Map<SinkName, ProcessSample | undefined>();
    for (const [name, child] of children) {
      processes.set(name, await child.stop());
      children.delete(name);
    }

    // What the targets hold: every key written, its last write applied.
    const live = [...load.lastOp.values()].filter((op) => op === 'upsert').length;
    const problems: string[] = [];
    const pgRows = Number(
      (
        await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${pg.escapeIdentifier(ns)}.${pg.escapeIdentifier(ENTITY)}`,
        )
      ).rows[0]?.n,
    );
    if (pgRows !== live) problems.push(`postgres holds ${pgRows} rows, expected ${live}`);
    const collection = mongo.db(ns).collection(ENTITY);
    const documents = await collection.countDocuments();
    const liveDocuments = await collection.countDocuments({ _deleted: false });
    if (documents !== load.lastOp.size || liveDocuments !== live) {
      problems.push(
        `mongo holds ${documents} documents (${liveDocuments} live), expected ` +
          `${load.lastOp.size} (${live} live)`,
      );
    }

    const summaries = new Map<SinkName, LagSummary>(
      SINKS.map((sink) => [
        sink,
        summarizeLag(
          samples.get(sink)!,
          loadMs,
          maxBehind,
          options.drainSeconds * 1000,
          caughtUpAfter.get(sink),
        ),
      ]),
    );
    const cpuPerThousand = (sink: SinkName): number => {
      const end = processes.get(sink)?.cpuMs;
      const start = cpuBefore.get(sink)?.cpuMs;
      return end === undefined || start === undefined
        ? Number.NaN
        : ((end - start) * 1000) / load.written;
    };

    console.log(
      markdownTable(
        [
          'sink',
          'behind, median',
          'behind, max',
          'max, 2nd half',
          'growth, 2nd half (/s)',
          'oldest unapplied, max (s)',
          'caught up after (s)',
          'CPU ms / 1000 writes',
          'peak RSS (MB)',
          'bounded',
        ],
        SINKS.map((sink) => {
          const s = summaries.get(sink)!;
          return [
            sink,
            fmtRate(s.medianBehind),
            fmtRate(s.maxBehind),
            fmtRate(s.secondHalfMaxBehind),
            fmt(s.secondHalfGrowthPerSecond, 1),
            fmt(s.maxOldestUnappliedSeconds, 1),
            s.caughtUpAfterSeconds === undefined ? 'no' : fmt(s.caughtUpAfterSeconds, 1),
            fmt(cpuPerThousand(sink), 0),
            fmt(processes.get(sink)?.peakRssMb ?? Number.NaN, 0),
            s.bounded ? 'yes' : '**no**',
          ];
        }),
      ),
    );
    console.log('');
    console.log(
      `${fmtRate(load.written)} writes at ${fmtRate(load.writtenPerSecond)}/s over ` +
        `${fmt(loadMs / 1000, 0)} s to ${fmtRate(load.lastOp.size)} keys (${fmtRate(live)} live at ` +
        `the end); lag sampled every ${options.sampleEvery} s; load average ` +
        `${fmt(loadAverageBefore, 1)} before, ${fmt(loadAverageMax, 1)} at most, ` +
        `${fmt(loadAverageAfter, 1)} after. ` +
        (problems.length === 0
          ? 'Both targets hold every key as last written.'
          : problems.join('; ')),
    );
    console.log(
      JSON.stringify({
        bench: 'soak',
        date: new Date().toISOString().slice(0, 10),
        node: process.version,
        cpus: cpus().length,
        loadAverage: {
          before: Number(loadAverageBefore.toFixed(2)),
          max: Number(loadAverageMax.toFixed(2)),
          after: Number(loadAverageAfter.toFixed(2)),
        },
        options: { ...options, maxBehind },
        partitions: PARTITIONS,
        written: load.written,
        writtenPerSecond: Math.round(load.writtenPerSecond),
        keysWritten: load.lastOp.size,
        sinks: Object.fromEntries(
          SINKS.map((sink) => [
            sink,
            {
              ...summaries.get(sink)!,
              cpuMsPerThousandWrites: Number(cpuPerThousand(sink).toFixed(1)),
              peakRssMb: Number((processes.get(sink)?.peakRssMb ?? Number.NaN).toFixed(1)),
            },
          ]),
        ),
        targetsMatch: problems.length === 0,
      }),
    );
    if (problems.length > 0 || SINKS.some((sink) => !summaries.get(sink)!.bounded)) {
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

await main();
