/**
 * PostgreSQL sink benchmark: how fast the sink service drains a backlog into PostgreSQL next to
 * upserting the same rows straight into PostgreSQL, how fresh the table stays under a steady
 * write load, and how much memory the service takes, all measured in one run.
 *
 *   node --import tsx bench/sink-postgres/run.ts [--rounds 4] [--events 100000] [--keys 10000]
 *        [--batch-sizes 1000,2000] [--warmup 0.2] [--rate 2000] [--seconds 10] [--breakdown]
 *        [--profile <dir>]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_EVENTS, BENCH_KEYS,
 * BENCH_BATCH_SIZES, BENCH_WARMUP, BENCH_RATE, BENCH_SECONDS, BENCH_BREAKDOWN, BENCH_PROFILE);
 * REDIS_URL and
 * POSTGRES_URL say where the servers are.
 *
 * Subject: the real service, `services/sink-postgres/src/main.ts`, as a child process. N upserts
 * (`--events`, keys drawn from `--keys` with a seeded generator) are written once with
 * capture.writeMany in batches of 1000; every subject run then starts a child under a sink name
 * of its own (so its own consumer group, reading the same backlog from the start) with a fresh
 * PostgreSQL schema, and is timed from the moment the applied watermark of every partition,
 * announced on the watermark channel, passes the warm-up (the first `--warmup` share of the reads)
 * to the moment it reaches the stream's last id; the report also gives the ratio of the whole
 * drains, timed from the child's "sink started" log line. Its peak resident memory is VmHWM of
 * /proc/<pid>/status, read just before SIGTERM.
 *
 * Raw baseline: the same decoded records with the same versions (their stream ids), grouped into
 * the transactions the sink makes (one read takes up to batch-size entries over all partitions),
 * reduced to the last event per key, and upserted from one pg client with one statement per group
 * in its own implicit transaction: INSERT … SELECT * FROM unnest(…) ON CONFLICT DO UPDATE … WHERE
 * the stored version is older. No offsets, no Redis. Tables come from the sink's own DDL. Timed
 * from the first statement after the same warm-up reads.
 *
 * Each round runs raw and subject back to back for every batch size, alternating the order, so
 * that a noisy neighbour hits both about equally; the report gives medians over the rounds and
 * the median of the per-round subject/raw ratios. After each run its table is checked (same rows
 * as the other side's) and its schema dropped, and PostgreSQL is left to go quiet (no autovacuum
 * worker) before the next run starts, so no run pays for the one before.
 *
 * Freshness: a child sink runs on empty streams under another prefix while capture.writeMany
 * writes `--rate` events/s in batches of 100 for `--seconds`. For every event, latency = the time
 * the first watermark announcement covering its id (same partition, id <= announced id) reached
 * this process, minus the time writeMany was called for it (and, second figure, minus the
 * millisecond part of its stream id, the moment Redis appended it). The announcement follows the
 * COMMIT, the XACK and the watermark script, so this is what a write-through caller would wait.
 *
 * `--breakdown` adds rungs between raw and subject (all whole drains, set beside the whole drains
 * of raw and subject), to show where a batch's time goes:
 * PostgresSink.apply fed the baseline's transactions (no runner, no Redis), the runner's
 * XREADGROUP alone (no PostgreSQL), decoding alone, and the SinkRunner in this process with a
 * timing wrapper around the sink and a counter on the runner's Redis connection. `--profile <dir>`
 * writes V8 CPU profiles of every child (`--cpu-prof`, one folder per run, one file per thread:
 * the largest is the main thread); summarize one with
 * `node --import tsx bench/sink-postgres/profile-summary.ts <file.cpuprofile>`.
 *
 * Redis keys live under fresh prefixes and PostgreSQL tables in fresh schemas, all removed at the
 * end, also after Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type BatchWrite, type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { decodeEnvelopeTokens } from '../../runtime/envelope.ts';
import { streamEntries } from '../../runtime/resp/stream-entries.ts';
import { StreamReadConnection } from '../../runtime/resp/stream-read-connection.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { prepareRecord } from '../../runtime/schema/prepare-record.ts';
import type { EntityTarget, PartitionBatch } from '../../runtime/sink/sink.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { compareStreamIds, streamIdTime } from '../../runtime/stream-id.ts';
import type { WatermarkMessage } from '../../runtime/watermark/watermark-message.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { fmt, fmtRate, median, percentile, seeded } from '../support/numbers.ts';
import { positiveInteger, roundsOption } from '../support/options.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import { TimedSink } from '../support/timed-sink.ts';
import { benchTodo } from '../support/todo-record.ts';

/** What `run.ts` measures and how much. */
interface BenchOptions {
  /**
   * Rounds of raw + subject per batch size; the report gives medians. Default 4: the side that
   * goes first alternates, and an even count weighs both orders alike.
   */
  rounds: number;
  /** Upserts in the backlog each drain run applies. Default 100 000. */
  events: number;
  /** Distinct entity keys the upserts are spread over. Default 10 000. */
  keys: number;
  /** Sink batch sizes (SINK_BATCH_SIZE) to compare, each measured every round. Default 500,1000. */
  batchSizes: number[];
  /** Events/s written during the freshness phase. Default 2000. */
  rate: number;
  /** Seconds the freshness phase writes. Default 10. */
  seconds: number;
  /**
   * Share of the backlog (whole reads from the start) applied before the clock starts, on both
   * sides: a sink is a long-running process, and the first reads of a fresh one run while its
   * code is still being compiled. Default 0.2; 0 times the whole drain.
   */
  warmup: number;
  /** Also run the sink in-process to show where a batch's time goes. Default off. */
  breakdown: boolean;
  /** Directory for V8 CPU profiles of the child sinks (`--cpu-prof`). Default none. */
  profile?: string;
  /** Node flags of the child services, space-separated. Default: none, as deployed. */
  nodeFlags: string;
}

const ENTITY = 'todo';
const PARTITIONS = 4;

/** Entries per partition stream in one read: the sink shares its batch size over the streams. */
function perStream(batchSize: number): number {
  return Math.max(1, Math.ceil(batchSize / PARTITIONS));
}
/** The part of the backlog applied before timing: whole reads, as the sink groups them. */
interface WarmUp {
  /** Reads (one per transaction on the raw side) in the warm-up. */
  groups: number;
  /** Entries per partition stream in the warm-up. */
  perPartition: number;
  events: number;
  /** Last warm-up id per partition (partitions with warm-up entries only). */
  ids: Map<number, string>;
}

function warmUpOf(backlog: Backlog, batchSize: number, fraction: number): WarmUp {
  const share = perStream(batchSize);
  const reads = Math.max(...backlog.partitions.map((list) => Math.ceil(list.length / share)));
  const groups = Math.floor(reads * fraction);
  const ids = new Map<number, string>();
  let events = 0;
  backlog.partitions.forEach((list, partition) => {
    const n = Math.min(list.length, groups * share);
    events += n;
    if (n > 0) ids.set(partition, list[n - 1]!.id);
  });
  return { groups, perPartition: groups * share, events, ids };
}

/** Writes per capture.writeMany call when pre-loading the backlog. */
const PRELOAD_BATCH = 1000;
/** Writes per capture.writeMany call in the freshness phase. */
const LIVE_BATCH = 100;
/** SINK_BLOCK_MS of the children. */
const BLOCK_MS = 100;
/** The issue's targets: drain rate at least this fraction of the raw upsert rate, RSS below. */
const TARGET_RATIO = 0.9;
const TARGET_RSS_MB = 200;
/** Longest a drain or a freshness tail may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 180_000;
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_MAIN = 'services/sink-postgres/src/main.ts';
/** The node flags scripts/up.sh and docker-compose.yml run sink services with. */
const DEPLOYED_NODE_FLAGS = '';

function parseOptions(argv: string[]): BenchOptions {
  const list = (value: string) => {
    const sizes = value.split(',').map((v) => positiveInteger(v.trim()));
    if (sizes.length === 0) throw new Error('--batch-sizes needs at least one size');
    return sizes;
  };
  const program = new Command('bench-sink-postgres')
    .description('PostgreSQL sink drain rate, freshness and memory beside raw upserts, in one run')
    .addOption(roundsOption(4))
    .addOption(
      new Option('--events <n>', 'upserts in the backlog')
        .env('BENCH_EVENTS')
        .argParser(positiveInteger)
        .default(100_000),
    )
    .addOption(
      new Option('--keys <n>', 'distinct keys')
        .env('BENCH_KEYS')
        .argParser(positiveInteger)
        .default(10_000),
    )
    .addOption(
      new Option('--batch-sizes <list>', 'sink batch sizes, comma-separated')
        .env('BENCH_BATCH_SIZES')
        .argParser(list)
        .default([1000, 2000], '1000,2000'),
    )
    .addOption(
      new Option('--rate <n>', 'events/s in the freshness phase')
        .env('BENCH_RATE')
        .argParser(positiveInteger)
        .default(2000),
    )
    .addOption(
      new Option('--seconds <n>', 'length of the freshness phase')
        .env('BENCH_SECONDS')
        .argParser(positiveInteger)
        .default(10),
    )
    .addOption(
      new Option('--warmup <fraction>', 'share of the backlog applied before timing starts')
        .env('BENCH_WARMUP')
        .argParser((value: string) => {
          const n = Number(value);
          if (!(n >= 0 && n < 1)) throw new Error('--warmup must be at least 0 and below 1');
          return n;
        })
        .default(0.2),
    )
    .addOption(
      new Option('--breakdown', 'also run the sink in-process and show where its time goes')
        .env('BENCH_BREAKDOWN')
        .default(false),
    )
    .addOption(
      new Option('--node-flags <flags>', 'node flags of the sink services')
        .env('BENCH_NODE_FLAGS')
        .default(DEPLOYED_NODE_FLAGS),
    )
    .addOption(
      new Option('--profile <dir>', 'write V8 CPU profiles of the child sinks here').env(
        'BENCH_PROFILE',
      ),
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Splits `<ms>-<seq>` without BigInt: the baseline passes the parts as text, like the sink. */
function versionParts(id: string): [string, string] {
  const dash = id.indexOf('-');
  return [id.slice(0, dash), id.slice(dash + 1)];
}

// ---------------------------------------------------------------------------------------------
// The backlog

/** One pre-loaded event as the sink will see it: decoded record, key and stream id. */
interface LoadedEvent {
  key: string;
  id: string;
  record: Record<string, unknown>;
  /** The Avro binary capture appended (what the PostgreSQL sink transcodes). */
  payload: Buffer;
}

interface Backlog {
  /** Events per partition, in stream order. */
  partitions: LoadedEvent[][];
  /** Last stream id per partition. */
  lastIds: Map<number, string>;
  /** capture.writeMany rate while loading, events/s (for orientation only). */
  loadRate: number;
}

/**
 * Writes the backlog with capture.writeMany and keeps, for the raw baseline, each record exactly
 * as the sink decodes it (Avro round trip with the registered schema) with its stream id.
 */
async function preload(capture: Capture, events: number, keys: number): Promise<Backlog> {
  const { type } = capture.schemaOf(ENTITY);
  const random = seeded(0x5eed);
  const partitions: LoadedEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  let busyMs = 0;
  for (let from = 0; from < events; from += PRELOAD_BATCH) {
    const records: Record<string, unknown>[] = [];
    for (let i = from; i < Math.min(events, from + PRELOAD_BATCH); i++)
      records.push(benchTodo(i, Math.floor(random() * keys)));
    const writes: BatchWrite[] = records.map((record) => ({ op: 'upsert', record }));
    const started = performance.now();
    const results = await capture.writeMany(ENTITY, writes);
    busyMs += performance.now() - started;
    results.forEach((result, i) => {
      const payload = type.toBuffer(prepareRecord(ENTITY, type, records[i]));
      partitions[result.partition]!.push({
        key: result.key,
        id: result.id,
        record: { ...(type.fromBuffer(payload) as object) },
        payload,
      });
    });
  }
  const lastIds = new Map<number, string>();
  partitions.forEach((list, p) => {
    if (list.length > 0) lastIds.set(p, list.at(-1)!.id);
  });
  return { partitions, lastIds, loadRate: events / (busyMs / 1000) };
}

// ---------------------------------------------------------------------------------------------
// Watermarks

/**
 * Follows the applied watermarks announced on one prefix's channel. `until` resolves with the
 * time every listed partition of a sink reached its target id; a slow poll of the watermark keys
 * backs the subscription up, so a lost announcement only costs precision, never the run.
 */
class WatermarkTracker {
  private readonly marks = new Map<string, string>();
  private readonly listeners = new Set<(message: WatermarkMessage, at: number) => void>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly redis: Redis,
    private readonly capture: Capture,
  ) {}

  static async open(url: string, redis: Redis, capture: Capture): Promise<WatermarkTracker> {
    const subscriber = new Redis(url, { lazyConnect: true });
    await subscriber.connect();
    const tracker = new WatermarkTracker(subscriber, redis, capture);
    subscriber.on('message', (_channel: string, text: string) => {
      const at = Date.now();
      const message = JSON.parse(text) as WatermarkMessage;
      const key = `${message.sink}/${message.partition}`;
      const seen = tracker.marks.get(key);
      if (seen === undefined || compareStreamIds(message.id, seen) > 0)
        tracker.marks.set(key, message.id);
      for (const listener of tracker.listeners) listener(message, at);
    });
    await subscriber.subscribe(capture.keys.appliedChannel());
    return tracker;
  }

  on(listener: (message: WatermarkMessage, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private reached(sink: string, targets: ReadonlyMap<number, string>): boolean {
    for (const [p, id] of targets) {
      const mark = this.marks.get(`${sink}/${p}`);
      if (mark === undefined || compareStreamIds(mark, id) < 0) return false;
    }
    return true;
  }

  /** Resolves with Date.now() of the announcement that completed the targets. */
  until(
    sink: string,
    targets: ReadonlyMap<number, string>,
    timeoutMs = DRAIN_TIMEOUT_MS,
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let poller: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | undefined, at = Date.now()) => {
        off();
        clearInterval(poller);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(at);
      };
      const off = this.on((message, at) => {
        if (message.sink === sink && this.reached(sink, targets)) finish(undefined, at);
      });
      if (this.reached(sink, targets)) return finish(undefined);
      poller = setInterval(() => {
        void this.poll(sink, targets).then(
          () => {
            if (this.reached(sink, targets)) finish(undefined);
          },
          () => undefined,
        );
      }, 1000).unref();
      timer = setTimeout(
        () => finish(new Error(`sink ${sink} did not reach the last ids within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref();
    });
  }

  private async poll(sink: string, targets: ReadonlyMap<number, string>): Promise<void> {
    for (const p of targets.keys()) {
      const mark = await this.redis.get(this.capture.keys.watermark(ENTITY, p, sink));
      const seen = this.marks.get(`${sink}/${p}`);
      if (mark && (seen === undefined || compareStreamIds(mark, seen) > 0))
        this.marks.set(`${sink}/${p}`, mark);
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------
// The sink service as a child process

interface ChildSinkOptions {
  redisUrl: string;
  postgresUrl: string;
  prefix: string;
  sinkName: string;
  pgSchema: string;
  batchSize: number;
  profileDir: string | undefined;
  nodeFlags: string;
}

interface ProcessSample {
  /** VmHWM: peak resident set, MB. */
  peakRssMb: number;
  /** VmRSS now, MB. */
  rssMb: number;
  /** User + system CPU time so far, ms. */
  cpuMs: number;
}

/** Memory and CPU figures of a live process, from /proc (Linux). */
async function sampleProcess(pid: number): Promise<ProcessSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return {
    peakRssMb: kb('VmHWM') / 1024,
    rssMb: kb('VmRSS') / 1024,
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
  };
}

/** A running `services/sink-postgres/src/main.ts`. */
class ChildSink {
  /** Resolves with the epoch ms of the service's "sink started" log line. */
  readonly started: Promise<number>;
  private readonly exited: Promise<number | null>;
  private readonly stderr: string[] = [];
  private readonly spawnedAt = Date.now();

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 40) this.stderr.shift();
    });
    const lines = createInterface({ input: child.stdout! });
    this.started = new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        let entry: { msg?: string; time?: number; level?: number } | undefined;
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if (entry?.msg === 'sink started') resolve(entry.time ?? Date.now());
        // pino level 50 = error: a stuck service would otherwise only show up as a timeout.
        else if ((entry?.level ?? 0) >= 50) this.stderr.push(line);
      });
      void this.exited.then((code) =>
        reject(new Error(`sink exited with ${code} before starting:\n${this.stderr.join('\n')}`)),
      );
    });
    this.started.catch(() => undefined);
  }

  static spawn(options: ChildSinkOptions): ChildSink {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: options.redisUrl,
      CDC_PREFIX: options.prefix,
      POSTGRES_URL: options.postgresUrl,
      POSTGRES_SCHEMA: options.pgSchema,
      SINK_NAME: options.sinkName,
      SINK_CONSUMER: `${options.sinkName}-bench`,
      SINK_BATCH_SIZE: String(options.batchSize),
      SINK_BLOCK_MS: String(BLOCK_MS),
      SINK_METRICS_PORT: '0',
      SCHEMAS_DIR: `${ROOT}schemas`,
      LOG_LEVEL: 'info',
    };
    // The project file and an entity filter from the caller's shell would change what runs.
    delete env.CDC_CONFIG;
    delete env.SINK_ENTITIES;
    const profile = options.profileDir
      ? [
          // One folder per run: the main thread and the module-loader thread each write a file.
          '--cpu-prof',
          `--cpu-prof-dir=${join(options.profileDir, options.sinkName)}`,
        ]
      : [];
    // Launched as scripts/up.sh and docker-compose.yml launch it.
    const child = spawn(
      process.execPath,
      [
        ...profile,
        ...options.nodeFlags.split(' ').filter(Boolean),
        '--import',
        'tsx',
        SERVICE_MAIN,
      ],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ChildSink(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** ms from spawn to the "sink started" line. */
  async startupMs(): Promise<number> {
    return (await this.started) - this.spawnedAt;
  }

  sample(): Promise<ProcessSample> {
    return sampleProcess(this.pid);
  }

  /** Reads the final figures, then stops the service with SIGTERM as an orchestrator would. */
  async stop(): Promise<ProcessSample | undefined> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return undefined;
    const last = await this.sample().catch(() => undefined);
    this.child.kill('SIGTERM');
    const code = await Promise.race([this.exited, sleep(15_000, 'timeout' as const)]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`sink ${this.pid} did not stop within 15 s of SIGTERM`);
    }
    return last;
  }
}

// ---------------------------------------------------------------------------------------------
// Drain runs

interface DrainResult {
  eventsPerSecond: number;
  ms: number;
  /** CPU time of the process doing the sink's work per event, µs. */
  cpuMicrosPerEvent: number;
}

interface ChildDrainResult extends DrainResult {
  /** Events/s over the whole drain, warm-up included (from the "sink started" line). */
  wholeEventsPerSecond: number;
  startupMs: number;
  /** VmRSS right after start, before the drain, MB. */
  idleRssMb: number;
  peakRssMb: number;
}

async function childDrain(
  base: Omit<ChildSinkOptions, 'sinkName' | 'pgSchema'>,
  sinkName: string,
  pgSchema: string,
  tracker: WatermarkTracker,
  backlog: Backlog,
  events: number,
  warmUp: WarmUp,
  children: Set<ChildSink>,
): Promise<ChildDrainResult> {
  const child = ChildSink.spawn({ ...base, sinkName, pgSchema });
  children.add(child);
  try {
    const done = tracker.until(sinkName, backlog.lastIds);
    const warm = tracker.until(sinkName, warmUp.ids);
    // Awaited below; until then a failed start must not leave them unhandled rejections.
    done.catch(() => undefined);
    warm.catch(() => undefined);
    const startedAt = await child.started;
    const idle = await child.sample();
    const warmAt = warmUp.events > 0 ? await warm : startedAt;
    const before = warmUp.events > 0 ? await child.sample() : idle;
    const finishedAt = await done;
    const after = await child.stop();
    const ms = finishedAt - warmAt;
    const timed = events - warmUp.events;
    return {
      eventsPerSecond: timed / (ms / 1000),
      wholeEventsPerSecond: events / ((finishedAt - startedAt) / 1000),
      ms,
      // Includes the CPU of the few ms between the finish and the sample: negligible.
      cpuMicrosPerEvent: after ? ((after.cpuMs - before.cpuMs) * 1000) / timed : Number.NaN,
      startupMs: await child.startupMs(),
      idleRssMb: idle.rssMb,
      peakRssMb: after?.peakRssMb ?? Number.NaN,
    };
  } finally {
    await child.stop().catch(() => undefined);
    children.delete(child);
  }
}

/** Creates the sink's tables in a schema with the sink's own DDL (setup, not measured). */
async function createTables(url: string, capture: Capture, pgSchema: string): Promise<void> {
  const sink = new PostgresSink({ url, schema: pgSchema, name: 'bench-setup' });
  await sink.connect();
  try {
    const target: EntityTarget = {
      entity: ENTITY,
      schema: capture.schemaOf(ENTITY),
      keyField: 'id',
    };
    await sink.ensureTargets([target]);
  } finally {
    await sink.close();
  }
}

/** Waits (at most 10 s) until no autovacuum worker runs, then a little longer. */
async function settle(admin: pg.Pool): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 200) {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
    );
    if (rows[0]?.n === '0') break;
    await sleep(200);
  }
  await sleep(500);
}

/** Row count and a digest of every row, to check two tables hold the same data. */
async function tableDigest(pool: pg.Pool, pgSchema: string): Promise<string> {
  const table = `${pg.escapeIdentifier(pgSchema)}.${pg.escapeIdentifier(ENTITY)}`;
  const { rows } = await pool.query<{ n: string; digest: string }>(
    `SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t.id)) AS digest FROM ${table} t`,
  );
  return `${rows[0]?.n}:${rows[0]?.digest}`;
}

/**
 * The raw baseline: a batched upsert of the rows the sink writes, without the sink. Same grouping
 * (one read = up to `batchSize` entries over all partitions), same last-event-per-key reduction,
 * the same upsert, one statement (so one implicit transaction) per group, one client. The sink
 * does more in its one statement per group (the offsets fence and the offsets themselves).
 */
async function rawDrain(
  url: string,
  pgSchema: string,
  backlog: Backlog,
  batchSize: number,
  warmUp: WarmUp,
): Promise<DrainResult & { wholeEventsPerSecond: number; transactions: number; rows: number }> {
  const table = `${pg.escapeIdentifier(pgSchema)}.${pg.escapeIdentifier(ENTITY)}`;
  const columns = ['id', 'name', 'description', 'done', 'created_at', 'updated_at'];
  const types = ['text', 'text', 'text', 'boolean', 'timestamptz', 'timestamptz'];
  const upsert = `INSERT INTO ${table} AS t (${columns.join(', ')}, _cdc_ms, _cdc_seq)
     SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}, $7::bigint[], $8::bigint[])
     ON CONFLICT (id) DO UPDATE SET ${[...columns.slice(1), '_cdc_ms', '_cdc_seq'].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
     WHERE (t._cdc_ms, t._cdc_seq) < (EXCLUDED._cdc_ms, EXCLUDED._cdc_seq)`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let transactions = 0;
  let rows = 0;
  try {
    const wholeStarted = performance.now();
    let cpu = process.cpuUsage();
    let started = wholeStarted;
    // The sink's batch size bounds a whole read, shared out over the partition streams.
    const share = perStream(batchSize);
    for (let from = 0; ; from += share) {
      if (from === warmUp.perPartition && from > 0) {
        cpu = process.cpuUsage();
        started = performance.now();
      }
      const groups = backlog.partitions
        .map((events, partition) => ({ partition, events: events.slice(from, from + share) }))
        .filter((g) => g.events.length > 0);
      if (groups.length === 0) break;
      const latest = new Map<string, LoadedEvent>();
      for (const g of groups) for (const e of g.events) latest.set(e.key, e);
      const params: unknown[][] = columns.map(() => []);
      const ms: string[] = [];
      const seq: string[] = [];
      for (const e of latest.values()) {
        for (let c = 0; c < columns.length; c++) params[c]!.push(e.record[columns[c]!] ?? null);
        const [m, s] = versionParts(e.id);
        ms.push(m);
        seq.push(s);
      }
      await client.query(upsert, [...params, ms, seq]);
      transactions++;
      rows += latest.size;
    }
    const finished = performance.now();
    const elapsed = finished - started;
    const used = process.cpuUsage(cpu);
    const events = backlog.partitions.reduce((n, list) => n + list.length, 0);
    const timed = events - warmUp.events;
    return {
      eventsPerSecond: timed / (elapsed / 1000),
      wholeEventsPerSecond: events / ((finished - wholeStarted) / 1000),
      ms: elapsed,
      cpuMicrosPerEvent: (used.user + used.system) / timed,
      transactions,
      rows,
    };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// In-process breakdown

/**
 * Counts the commands sent on one ioredis connection and the time until each reply, by name.
 * Diagnostic only: it wraps the connection's sendCommand. The runner's blocking reads use a
 * duplicate of the connection, which this does not see.
 */
function countCommands(redis: Redis): {
  counts: Map<string, { calls: number; ms: number }>;
  reset(): void;
} {
  const counts = new Map<string, { calls: number; ms: number }>();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    const [command] = args;
    const started = performance.now();
    const entry = counts.get(command.name) ?? { calls: 0, ms: 0 };
    counts.set(command.name, entry);
    entry.calls++;
    const done = () => {
      entry.ms += performance.now() - started;
    };
    command.promise.then(done, done);
    return send(...args);
  }) as Redis['sendCommand'];
  return { counts, reset: () => counts.clear() };
}

interface BreakdownResult extends DrainResult {
  applies: number;
  eventsPerApply: number;
  /** Share of the drain spent in sink.apply (PostgreSQL: lock offsets, upsert, offsets, commit). */
  applyShare: number;
  /** Per apply call: Redis commands sent on the runner's main connection, by name. */
  commandsPerApply: Record<string, number>;
  /**
   * Per apply call: ms from sending those commands to their replies, by name. Acknowledgements
   * are not waited for (the next batch applies meanwhile), so these overlap other work.
   */
  commandMsPerApply: Record<string, number>;
  /** Per apply call: ms of the drain outside apply (waiting for the next read, planning). */
  otherMsPerApply: number;
}

async function inProcessDrain(
  redisUrl: string,
  postgresUrl: string,
  prefix: string,
  sinkName: string,
  pgSchema: string,
  batchSize: number,
  tracker: WatermarkTracker,
  backlog: Backlog,
  events: number,
): Promise<BreakdownResult> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const counter = countCommands(redis);
  const sink = new TimedSink(
    new PostgresSink({ url: postgresUrl, schema: pgSchema, name: sinkName }),
  );
  const runner = new SinkRunner({
    sink,
    redis,
    prefix,
    consumer: `${sinkName}-bench`,
    batchSize,
    blockMs: BLOCK_MS,
  });
  try {
    const done = tracker.until(sinkName, backlog.lastIds);
    done.catch(() => undefined);
    await runner.start();
    counter.reset();
    sink.applyMs = 0;
    sink.applies = 0;
    sink.events = 0;
    const cpu = process.cpuUsage();
    const startedAt = Date.now();
    const finishedAt = await done;
    const used = process.cpuUsage(cpu);
    const ms = finishedAt - startedAt;
    const per = (n: number) => n / Math.max(1, sink.applies);
    const commandsPerApply: Record<string, number> = {};
    const commandMsPerApply: Record<string, number> = {};
    for (const [name, c] of [...counter.counts].sort((a, b) => b[1].calls - a[1].calls)) {
      commandsPerApply[name] = per(c.calls);
      commandMsPerApply[name] = per(c.ms);
    }
    return {
      eventsPerSecond: events / (ms / 1000),
      ms,
      cpuMicrosPerEvent: (used.user + used.system) / events,
      applies: sink.applies,
      eventsPerApply: per(sink.events),
      applyShare: sink.applyMs / ms,
      commandsPerApply,
      commandMsPerApply,
      otherMsPerApply: per(ms - sink.applyMs),
    };
  } finally {
    await runner.stop();
    await redis.quit().catch(() => redis.disconnect());
  }
}

/**
 * PostgresSink.apply on its own: the sink's database code fed the raw baseline's transactions as
 * the runner hands events over (same grouping, same ids; payload and writer schema, which the
 * sink transcodes), no runner and no Redis. Between the raw
 * baseline and this lies what the sink's database code adds (offset lock, per-event version
 * checks, parameter mapping); between this and the in-process runner, what the runner adds.
 */
async function directApply(
  url: string,
  capture: Capture,
  pgSchema: string,
  backlog: Backlog,
  batchSize: number,
): Promise<DrainResult> {
  const sink = new PostgresSink({ url, schema: pgSchema, name: 'direct', poolSize: 1 });
  await sink.connect();
  try {
    await sink.ensureTargets([
      { entity: ENTITY, schema: capture.schemaOf(ENTITY), keyField: 'id' },
    ]);
    const capturedAt = Date.now();
    const writer = capture.schemaOf(ENTITY);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const share = perStream(batchSize);
    for (let from = 0; ; from += share) {
      const batches: PartitionBatch[] = [];
      backlog.partitions.forEach((events, partition) => {
        const slice = events.slice(from, from + share);
        if (slice.length === 0) return;
        batches.push({
          entity: ENTITY,
          partition,
          offset: slice.at(-1)!.id,
          events: slice.map((e) => ({
            id: e.id,
            op: 'upsert',
            entity: ENTITY,
            key: e.key,
            record: e.record,
            payload: e.payload,
            writer,
            capturedAt,
          })),
        });
      });
      if (batches.length === 0) break;
      await sink.apply(batches);
    }
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const events = backlog.partitions.reduce((n, list) => n + list.length, 0);
    return {
      eventsPerSecond: events / (elapsed / 1000),
      ms: elapsed,
      cpuMicrosPerEvent: (used.user + used.system) / events,
    };
  } finally {
    await sink.close();
  }
}

/**
 * Reading alone: the backlog read through a fresh consumer group as the runner reads it (one
 * XREADGROUP of up to `batchSize` entries over the partition streams, on the runner's kind of
 * read connection, split into entries), nothing else done.
 */
async function readAlone(
  redis: Redis,
  capture: Capture,
  group: string,
  batchSize: number,
): Promise<DrainResult> {
  const streams = Array.from({ length: PARTITIONS }, (_, p) => capture.keys.stream(ENTITY, p));
  for (const stream of streams) await redis.xgroup('CREATE', stream, group, '0');
  const reader = StreamReadConnection.like(redis);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let events = 0;
  for (;;) {
    const reply = streamEntries(
      await reader.command(
        [
          'XREADGROUP',
          'GROUP',
          group,
          'bench',
          'COUNT',
          perStream(batchSize),
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        ],
        30_000,
      ),
    );
    const read = reply.reduce((n, { ids }) => n + ids.length, 0);
    if (read === 0) break;
    events += read;
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  reader.close();
  return {
    eventsPerSecond: events / (elapsed / 1000),
    ms: elapsed,
    cpuMicrosPerEvent: (used.user + used.system) / events,
  };
}

/**
 * CPU per event of turning stream entries into events with decoded records (envelope decode as
 * the runner does it, Avro decode with the reader schema, copy), on entries read beforehand. The
 * PostgreSQL sink transcodes payloads instead of decoding records: this is the cost it avoids.
 */
async function decodeCost(redis: Redis, capture: Capture): Promise<number> {
  const connection = StreamReadConnection.like(redis);
  const streams = Array.from({ length: PARTITIONS }, (_, p) => capture.keys.stream(ENTITY, p));
  // XREAD replies are shaped like the runner's XREADGROUP ones.
  const reads = streamEntries(
    await connection.command(['XREAD', 'STREAMS', ...streams, ...streams.map(() => '0')], 30_000),
  );
  connection.close();
  const reader = capture.schemaOf(ENTITY);
  const resolver = await capture.registry.resolver(reader.id, reader);
  const decodeAll = () => {
    let n = 0;
    for (const { ids, reply, fieldsAt, fieldItems } of reads) {
      for (let i = 0; i < ids.length; i++) {
        const event = decodeEnvelopeTokens(ids[i]!, reply, fieldsAt[i]!, fieldItems[i]!);
        const record = { ...(reader.type.fromBuffer(event.payload!, resolver) as object) };
        if (record) n++;
      }
    }
    return n;
  };
  decodeAll(); // warm-up
  const cpu = process.cpuUsage();
  const n = decodeAll();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

// ---------------------------------------------------------------------------------------------
// Freshness

interface FreshnessResult {
  batchSize: number;
  events: number;
  /** Events/s actually written. */
  writtenPerSecond: number;
  /** From the writeMany call to the covering watermark announcement, ms. */
  p50: number;
  p99: number;
  max: number;
  /** From the Redis append (stream id time) to the covering announcement, ms. */
  appendP50: number;
  appendP99: number;
  peakRssMb: number;
}

async function freshness(
  options: BenchOptions,
  redis: Redis,
  redisUrl: string,
  postgresUrl: string,
  prefix: string,
  capture: Capture,
  pgSchema: string,
  batchSize: number,
  children: Set<ChildSink>,
): Promise<FreshnessResult> {
  const sinkName = `fresh-b${batchSize}`;
  const tracker = await WatermarkTracker.open(redisUrl, redis, capture);
  const child = ChildSink.spawn({
    redisUrl,
    postgresUrl,
    prefix,
    sinkName,
    pgSchema,
    batchSize,
    profileDir: options.profile,
    nodeFlags: options.nodeFlags,
  });
  children.add(child);
  const random = seeded(0xf4e5);
  let i = 0;
  const batchOf = (n: number): BatchWrite[] =>
    Array.from({ length: n }, () => ({
      op: 'upsert' as const,
      record: benchTodo(i++, Math.floor(random() * options.keys)),
    }));
  try {
    await child.started;
    // Warm-up: connections, JIT, the first statements; not measured.
    for (let w = 0; w < 5; w++) {
      const results = await capture.writeMany(ENTITY, batchOf(LIVE_BATCH));
      const targets = new Map<number, string>();
      for (const r of results) targets.set(r.partition, r.id);
      await tracker.until(sinkName, targets, 30_000);
    }

    interface Pending {
      id: string;
      calledAt: number;
    }
    const pending: Pending[][] = Array.from({ length: PARTITIONS }, () => []);
    const heads = new Array<number>(PARTITIONS).fill(0);
    const announced = new Array<string | undefined>(PARTITIONS).fill(undefined);
    const fromCall: number[] = [];
    const fromAppend: number[] = [];
    const record = (p: Pending, at: number) => {
      fromCall.push(at - p.calledAt);
      fromAppend.push(at - streamIdTime(p.id));
    };
    const off = tracker.on((message, at) => {
      if (message.sink !== sinkName || message.entity !== ENTITY) return;
      const p = message.partition;
      const prior = announced[p];
      if (prior === undefined || compareStreamIds(message.id, prior) > 0) announced[p] = message.id;
      const queue = pending[p]!;
      while (heads[p]! < queue.length && compareStreamIds(queue[heads[p]!]!.id, message.id) <= 0)
        record(queue[heads[p]!++]!, at);
    });

    const batches = Math.max(1, Math.round((options.rate * options.seconds) / LIVE_BATCH));
    const intervalMs = (LIVE_BATCH * 1000) / options.rate;
    const startedAt = performance.now();
    for (let b = 0; b < batches; b++) {
      const wait = startedAt + b * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      const writes = batchOf(LIVE_BATCH);
      const calledAt = Date.now();
      const results = await capture.writeMany(ENTITY, writes);
      for (const r of results) {
        const entry = { id: r.id, calledAt };
        const mark = announced[r.partition];
        // The announcement can overtake the pipeline's reply: then the event is applied already.
        if (mark !== undefined && compareStreamIds(r.id, mark) <= 0) record(entry, Date.now());
        else pending[r.partition]!.push(entry);
      }
    }
    const writtenPerSecond = (batches * LIVE_BATCH) / ((performance.now() - startedAt) / 1000);
    const deadline = Date.now() + 30_000;
    while (pending.some((q, p) => heads[p]! < q.length)) {
      if (Date.now() > deadline) throw new Error('freshness: events still unapplied after 30 s');
      await sleep(20);
    }
    off();
    const stats = await child.stop();
    const byCall = Float64Array.from(fromCall).sort();
    const byAppend = Float64Array.from(fromAppend).sort();
    return {
      batchSize,
      events: batches * LIVE_BATCH,
      writtenPerSecond,
      p50: percentile(byCall, 50),
      p99: percentile(byCall, 99),
      max: byCall.at(-1) ?? Number.NaN,
      appendP50: percentile(byAppend, 50),
      appendP99: percentile(byAppend, 99),
      peakRssMb: stats?.peakRssMb ?? Number.NaN,
    };
  } finally {
    await child.stop().catch(() => undefined);
    children.delete(child);
    await tracker.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
  const ns = `bench_sinkpg_${randomBytes(4).toString('hex')}`;
  const drainPrefix = ns;
  const freshPrefix = `${ns}_fresh`;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  admin.on('error', () => undefined);
  const schemas: string[] = [];
  const newSchema = async (label: string): Promise<string> => {
    const name = `${ns}_${label}`;
    schemas.push(name);
    await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
    return name;
  };
  /**
   * Takes the digest of a drained schema's table and drops the schema, then waits for PostgreSQL
   * to go quiet: the next run must not pay for this one's aftermath (autovacuum of 90 000 dead
   * row versions, background writes), whichever side it is.
   */
  const retire = async (name: string): Promise<string> => {
    const digest = await tableDigest(admin, name);
    await admin.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`);
    schemas.splice(schemas.indexOf(name), 1);
    await settle(admin);
    return digest;
  };
  const children = new Set<ChildSink>();
  const captures: Capture[] = [];
  let tracker: WatermarkTracker | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const c of children) await c.stop().catch(() => undefined);
      await tracker?.close();
      for (const c of captures) await c.close().catch(() => undefined);
      await deleteUnder(redis, `${drainPrefix}:*`);
      await deleteUnder(redis, `${freshPrefix}:*`);
      await redis.quit();
      for (const name of schemas) {
        // After an interrupt a run may still hold locks in the schema: retry past its deadlock.
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
            break;
          } catch (err) {
            if (attempt === 5) {
              log(`could not drop schema ${name}: ${(err as Error).message}`);
              break;
            }
            await sleep(200 * attempt);
          }
        }
      }
      await admin.end();
    })();
    return cleaning;
  };
  // An interrupted run still removes its keys, schemas and child processes.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const runStarted = performance.now();
  try {
    const capture = await createCapture({
      redis: { url: redisUrl },
      prefix: drainPrefix,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    captures.push(capture);
    log(
      `sink-postgres bench: ${options.events} upserts over ${options.keys} keys, ` +
        `batch sizes ${options.batchSizes.join(', ')}, ${options.rounds} rounds; ` +
        `freshness ${options.rate}/s for ${options.seconds} s`,
    );
    const backlog = await preload(capture, options.events, options.keys);
    log(`backlog written (capture.writeMany ${fmtRate(backlog.loadRate)} events/s)`);
    tracker = await WatermarkTracker.open(redisUrl, redis, capture);
    const base = {
      redisUrl,
      postgresUrl,
      prefix: drainPrefix,
      batchSize: 0,
      profileDir: options.profile,
      nodeFlags: options.nodeFlags,
    };

    const raw = new Map<number, Array<Awaited<ReturnType<typeof rawDrain>>>>();
    const child = new Map<number, ChildDrainResult[]>();
    const inProcess = new Map<number, BreakdownResult[]>();
    const direct = new Map<number, DrainResult[]>();
    const reads = new Map<number, DrainResult[]>();
    const decodeMicros = options.breakdown ? await decodeCost(redis, capture) : Number.NaN;
    const ratios = new Map<number, number[]>();
    const wholeRatios = new Map<number, number[]>();
    for (const size of options.batchSizes) {
      raw.set(size, []);
      child.set(size, []);
      inProcess.set(size, []);
      direct.set(size, []);
      reads.set(size, []);
      ratios.set(size, []);
      wholeRatios.set(size, []);
    }
    for (let round = 1; round <= options.rounds; round++) {
      const sizes = round % 2 ? options.batchSizes : [...options.batchSizes].reverse();
      for (const size of sizes) {
        const warmUp = warmUpOf(backlog, size, options.warmup);
        const digests = new Map<string, string>();
        const runRaw = async () => {
          const pgSchema = await newSchema(`raw_r${round}_b${size}`);
          await createTables(postgresUrl, capture, pgSchema);
          raw.get(size)!.push(await rawDrain(postgresUrl, pgSchema, backlog, size, warmUp));
          digests.set('raw', await retire(pgSchema));
        };
        const runChild = async () => {
          const pgSchema = await newSchema(`svc_r${round}_b${size}`);
          child
            .get(size)!
            .push(
              await childDrain(
                { ...base, batchSize: size },
                `svc-r${round}-b${size}`,
                pgSchema,
                tracker!,
                backlog,
                options.events,
                warmUp,
                children,
              ),
            );
          digests.set('svc', await retire(pgSchema));
        };
        // Alternate which side goes first so drift in the machine's load hits both.
        const order = round % 2 ? [runRaw, runChild] : [runChild, runRaw];
        for (const run of order) await run();
        // Both sides must have done the same work: the same rows with the same versions.
        if (digests.get('raw') !== digests.get('svc'))
          throw new Error(`round ${round}, batch ${size}: service and raw tables differ`);
        if (options.breakdown) {
          const directSchema = await newSchema(`dir_r${round}_b${size}`);
          direct
            .get(size)!
            .push(await directApply(postgresUrl, capture, directSchema, backlog, size));
          digests.set('direct', await retire(directSchema));
          reads.get(size)!.push(await readAlone(redis, capture, `read-r${round}-b${size}`, size));
          const pgSchema = await newSchema(`inp_r${round}_b${size}`);
          inProcess
            .get(size)!
            .push(
              await inProcessDrain(
                redisUrl,
                postgresUrl,
                drainPrefix,
                `inp-r${round}-b${size}`,
                pgSchema,
                size,
                tracker,
                backlog,
                options.events,
              ),
            );
          digests.set('in-process', await retire(pgSchema));
          for (const side of ['direct', 'in-process'])
            if (digests.get(side) !== digests.get('raw'))
              throw new Error(`round ${round}, batch ${size}: ${side} and raw tables differ`);
        }
        const r = raw.get(size)!.at(-1)!;
        const c = child.get(size)!.at(-1)!;
        ratios.get(size)!.push(c.eventsPerSecond / r.eventsPerSecond);
        wholeRatios.get(size)!.push(c.wholeEventsPerSecond / r.wholeEventsPerSecond);
        const extra = options.breakdown
          ? `; apply alone ${fmtRate(direct.get(size)!.at(-1)!.eventsPerSecond)}/s, ` +
            `read alone ${fmtRate(reads.get(size)!.at(-1)!.eventsPerSecond)}/s, ` +
            `runner in-process ${fmtRate(inProcess.get(size)!.at(-1)!.eventsPerSecond)}/s`
          : '';
        log(
          `round ${round}, batch ${size}: raw ${fmtRate(r.eventsPerSecond)}/s, ` +
            `service ${fmtRate(c.eventsPerSecond)}/s (${fmt(ratios.get(size)!.at(-1)!)}x, ` +
            `peak RSS ${fmt(c.peakRssMb, 0)} MB, started in ${c.startupMs} ms)${extra}`,
        );
      }
    }
    await tracker.close();
    tracker = undefined;

    const freshCapture = await createCapture({
      redis: { url: redisUrl },
      prefix: freshPrefix,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    captures.push(freshCapture);
    const fresh: FreshnessResult[] = [];
    for (const size of options.batchSizes) {
      const pgSchema = await newSchema(`fresh_b${size}`);
      const f = await freshness(
        options,
        redis,
        redisUrl,
        postgresUrl,
        freshPrefix,
        freshCapture,
        pgSchema,
        size,
        children,
      );
      fresh.push(f);
      log(
        `freshness, batch ${size}: ${f.events} events at ${fmtRate(f.writtenPerSecond)}/s, ` +
          `p50 ${fmt(f.p50, 1)} ms, p99 ${fmt(f.p99, 1)} ms`,
      );
    }

    const perSize = options.batchSizes.map((size) => {
      const c = child.get(size)!;
      const r = raw.get(size)!;
      const f = fresh.find((x) => x.batchSize === size)!;
      const peakRssMb = Math.max(...c.map((x) => x.peakRssMb), f.peakRssMb);
      const ratio = median(ratios.get(size)!);
      const b = inProcess.get(size)!;
      const d = direct.get(size)!;
      const rd = reads.get(size)!;
      return {
        batchSize: size,
        service: {
          eventsPerSecond: median(c.map((x) => x.eventsPerSecond)),
          cpuMicrosPerEvent: median(c.map((x) => x.cpuMicrosPerEvent)),
          startupMs: median(c.map((x) => x.startupMs)),
          idleRssMb: median(c.map((x) => x.idleRssMb)),
          peakRssMb,
          rounds: c.map((x) => Math.round(x.eventsPerSecond)),
        },
        raw: {
          eventsPerSecond: median(r.map((x) => x.eventsPerSecond)),
          cpuMicrosPerEvent: median(r.map((x) => x.cpuMicrosPerEvent)),
          transactions: r[0]?.transactions ?? 0,
          rows: r[0]?.rows ?? 0,
          rounds: r.map((x) => Math.round(x.eventsPerSecond)),
        },
        ratio,
        ratios: ratios.get(size)!.map((x) => Number(x.toFixed(3))),
        /** Service / raw over the whole drains, warm-up included. */
        wholeRatio: median(wholeRatios.get(size)!),
        wholeRates: {
          service: median(c.map((x) => x.wholeEventsPerSecond)),
          raw: median(r.map((x) => x.wholeEventsPerSecond)),
        },
        freshness: {
          p50: f.p50,
          p99: f.p99,
          max: f.max,
          appendP50: f.appendP50,
          appendP99: f.appendP99,
          events: f.events,
          writtenPerSecond: Math.round(f.writtenPerSecond),
        },
        applyAlone:
          d.length > 0
            ? {
                eventsPerSecond: median(d.map((x) => x.eventsPerSecond)),
                cpuMicrosPerEvent: median(d.map((x) => x.cpuMicrosPerEvent)),
                rounds: d.map((x) => Math.round(x.eventsPerSecond)),
              }
            : undefined,
        readAlone:
          rd.length > 0
            ? {
                eventsPerSecond: median(rd.map((x) => x.eventsPerSecond)),
                cpuMicrosPerEvent: median(rd.map((x) => x.cpuMicrosPerEvent)),
                rounds: rd.map((x) => Math.round(x.eventsPerSecond)),
              }
            : undefined,
        inProcess:
          b.length > 0
            ? {
                eventsPerSecond: median(b.map((x) => x.eventsPerSecond)),
                cpuMicrosPerEvent: median(b.map((x) => x.cpuMicrosPerEvent)),
                applies: median(b.map((x) => x.applies)),
                eventsPerApply: median(b.map((x) => x.eventsPerApply)),
                applyShare: median(b.map((x) => x.applyShare)),
                otherMsPerApply: median(b.map((x) => x.otherMsPerApply)),
                commandsPerApply: b.at(-1)!.commandsPerApply,
                commandMsPerApply: b.at(-1)!.commandMsPerApply,
                rounds: b.map((x) => Math.round(x.eventsPerSecond)),
              }
            : undefined,
        meetsRatio: ratio >= TARGET_RATIO,
        meetsRss: peakRssMb < TARGET_RSS_MB,
      };
    });

    const result = {
      bench: 'sink-postgres',
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      cpus: cpus().length,
      redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
      postgres:
        (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
          ?.v ?? 'unknown',
      options: { ...options, partitions: PARTITIONS, blockMs: BLOCK_MS },
      preloadEventsPerSecond: Math.round(backlog.loadRate),
      decodeCpuMicrosPerEvent: options.breakdown ? Number(decodeMicros.toFixed(2)) : undefined,
      results: perSize,
      target: { ratio: TARGET_RATIO, rssMb: TARGET_RSS_MB },
      runSeconds: Math.round((performance.now() - runStarted) / 1000),
    };

    const lines = [
      '| sink batch size | sink service (events/s) | raw upsert (events/s) | service / raw | freshness p50 / p99 (ms) | sink peak RSS (MB) |',
      '|---:|---:|---:|---:|---:|---:|',
      ...perSize.map(
        (s) =>
          `| ${s.batchSize} | ${fmtRate(s.service.eventsPerSecond)} | ${fmtRate(s.raw.eventsPerSecond)} | ` +
          `**${fmt(s.ratio)}x** | ${fmt(s.freshness.p50, 1)} / ${fmt(s.freshness.p99, 1)} | ${fmt(s.service.peakRssMb, 0)} |`,
      ),
      '',
      '| sink batch size | service CPU µs/event | raw client CPU µs/event | service startup (ms) | service idle RSS (MB) | freshness from append p50 / p99 (ms) | per-round ratios | whole drains, warm-up included: service / raw |',
      '|---:|---:|---:|---:|---:|---:|---|---:|',
      ...perSize.map(
        (s) =>
          `| ${s.batchSize} | ${fmt(s.service.cpuMicrosPerEvent, 1)} | ${fmt(s.raw.cpuMicrosPerEvent, 1)} | ` +
          `${fmt(s.service.startupMs, 0)} | ${fmt(s.service.idleRssMb, 0)} | ` +
          `${fmt(s.freshness.appendP50, 1)} / ${fmt(s.freshness.appendP99, 1)} | ${s.ratios.map((r) => fmt(r)).join(', ')} | ` +
          `${fmt(s.wholeRatio)}x |`,
      ),
    ];
    if (options.breakdown) {
      // The rungs time whole drains, so they are set beside the whole drains of raw and service.
      const step = (rate: number, s: (typeof perSize)[number]) =>
        `${fmtRate(rate)} (${fmt(rate / s.wholeRates.raw)}x)`;
      lines.push(
        '',
        '| sink batch size (whole drains) | raw upsert | PostgresSink.apply alone (no Redis) | XREADGROUP alone (no PostgreSQL) | SinkRunner, in-process | the service, child process |',
        '|---:|---:|---:|---:|---:|---:|',
        ...perSize.map(
          (s) =>
            `| ${s.batchSize} | ${fmtRate(s.wholeRates.raw)} | ${step(s.applyAlone!.eventsPerSecond, s)} | ` +
            `${step(s.readAlone!.eventsPerSecond, s)} | ${step(s.inProcess!.eventsPerSecond, s)} | ${step(s.wholeRates.service, s)} |`,
        ),
        '',
        `Decoding alone (envelope + Avro + copy, one thread): ${fmt(decodeMicros, 1)} µs CPU per event. ` +
          `XREADGROUP alone: ${perSize.map((s) => `${fmt(s.readAlone!.cpuMicrosPerEvent, 1)} µs (batch ${s.batchSize})`).join(', ')} client CPU per event.`,
        '',
        '| sink batch size | runner CPU µs/event | apply alone CPU µs/event | applies | events / apply | share of time in apply | ms / apply outside it | Redis commands / apply (ms to reply, overlapping) |',
        '|---:|---:|---:|---:|---:|---:|---:|---|',
        ...perSize.map((s) => {
          const b = s.inProcess!;
          const commands = Object.entries(b.commandsPerApply)
            .map(([name, n]) => `${name} ${fmt(n, 1)} (${fmt(b.commandMsPerApply[name] ?? 0, 2)})`)
            .join(', ');
          return (
            `| ${s.batchSize} | ${fmt(b.cpuMicrosPerEvent, 1)} | ${fmt(s.applyAlone!.cpuMicrosPerEvent, 1)} | ${fmt(b.applies, 0)} | ${fmt(b.eventsPerApply, 0)} | ` +
            `${fmt(b.applyShare * 100, 0)}% | ${fmt(b.otherMsPerApply, 2)} | ${commands} |`
          );
        }),
      );
    }
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
    for (const s of perSize) {
      process.stdout.write(
        `batch ${s.batchSize}: service / raw = ${fmt(s.ratio)}x (target >= ${TARGET_RATIO}x: ` +
          `${s.meetsRatio ? 'met' : 'NOT met'}); peak RSS ${fmt(s.service.peakRssMb, 0)} MB ` +
          `(target < ${TARGET_RSS_MB} MB: ${s.meetsRss ? 'met' : 'NOT met'})\n`,
      );
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cleanup();
  }
}

await main();
