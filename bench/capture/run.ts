/**
 * Capture benchmark: what the atomic cache-and-log write costs next to appending the same event
 * with a plain XADD, measured in one run against the same Redis.
 *
 *   node --import tsx bench/capture/run.ts [--rounds 3] [--single 2000] [--warmup 200]
 *                                          [--records 50000] [--batch 1000] [--breakdown]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_SINGLE, BENCH_WARMUP,
 * BENCH_RECORDS, BENCH_BATCH, BENCH_BREAKDOWN); REDIS_URL says where Redis is.
 *
 * Each round runs the raw baseline and capture back to back, alternating which goes first, so
 * that a noisy neighbour hits both about equally; the report gives the median over the rounds
 * and the median of the per-round capture/raw ratios (batched throughput, single-write p50 and
 * p99). The raw baseline appends exactly the stream
 * entry capture appends (the envelope codec's fields, the record Avro-encoded with the same
 * schema) to streams of the same partitioning, so the difference is what capture adds: record
 * validation, the JSON cache copy, the Lua script and its HSET.
 *
 * Everything is written under a fresh key prefix, deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { type BatchWrite, type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { encodeEnvelope } from '../../runtime/envelope.ts';
import { Keys } from '../../runtime/keys.ts';
import { partitionOf } from '../../runtime/partition.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { prepareRecord } from '../../runtime/schema/prepare-record.ts';
import { fmt, fmtRate, median, percentile } from '../support/numbers.ts';
import { positiveInteger, roundsOption } from '../support/options.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import { benchTodo } from '../support/todo-record.ts';

/** What `run.ts` measures and how much. */
interface BenchOptions {
  /** Rounds of baseline + subject; the report gives medians. Default 3. */
  rounds: number;
  /** Sequential single writes measured per round and side. Default 2000. */
  single: number;
  /** Single writes before measuring, per round and side (not counted). Default 200. */
  warmup: number;
  /** Records written by the batched phase per round and side. Default 50 000. */
  records: number;
  /** Writes per `writeMany` call / per pipeline. Default 1000. */
  batch: number;
  /** Also measure where capture's time goes (client-side preparation, Lua). Default off. */
  breakdown: boolean;
}

const ENTITY = 'todo';
const PARTITIONS = 4;
/** Distinct entity keys the records cycle through, so the cache stays a fixed size. */
const KEY_SPACE = 10_000;
/** Table labels of the two compared batched phases. */
const PHASE_LABELS: Record<string, string> = {
  raw: 'raw XADD, pipelined',
  capture: 'capture.writeMany',
};
/** The target: batched capture at least this fraction of raw XADD throughput. */
const TARGET_RATIO = 0.8;

function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench-capture')
    .description('Capture write latency and throughput beside raw XADD, in one run')
    .addOption(roundsOption(3))
    .addOption(
      new Option('--single <n>', 'sequential single writes measured per round')
        .env('BENCH_SINGLE')
        .argParser(positiveInteger)
        .default(2000),
    )
    .addOption(
      new Option('--warmup <n>', 'unmeasured single writes per round')
        .env('BENCH_WARMUP')
        .argParser(positiveInteger)
        .default(200),
    )
    .addOption(
      new Option('--records <n>', 'records per batched phase')
        .env('BENCH_RECORDS')
        .argParser(positiveInteger)
        .default(50_000),
    )
    .addOption(
      new Option('--batch <n>', 'writes per writeMany / pipeline')
        .env('BENCH_BATCH')
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(
      new Option('--breakdown', 'also measure where capture spends its time')
        .env('BENCH_BREAKDOWN')
        .default(false),
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}

/** The benchmark's todo number i, over KEY_SPACE keys. */
function todo(i: number): Record<string, unknown> {
  return benchTodo(i, i % KEY_SPACE);
}

interface Latency {
  p50: number;
  p99: number;
}

/** Awaits `write(i)` one after the other and returns the latency percentiles, ms. */
async function sequential(
  warmup: number,
  count: number,
  offset: number,
  write: (i: number) => Promise<unknown>,
): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await write(offset + i);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await write(offset + warmup + i);
    samples[i] = performance.now() - started;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Runs `writeBatch(from, to)` over `records` in slices of `batch`; returns events/s. */
async function batched(
  records: number,
  batch: number,
  writeBatch: (from: number, to: number) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < records; from += batch) {
    await writeBatch(from, Math.min(records, from + batch));
  }
  return records / ((performance.now() - started) / 1000);
}

/** The sides compared: each appends one todo event per write. */
interface Side {
  single(i: number): Promise<unknown>;
  batch(from: number, to: number): Promise<unknown>;
}

function captureSide(capture: Capture): Side {
  return {
    single: (i) => capture.upsert(ENTITY, todo(i)),
    batch: (from, to) => {
      const writes: BatchWrite[] = [];
      for (let i = from; i < to; i++) writes.push({ op: 'upsert', record: todo(i) });
      return capture.writeMany(ENTITY, writes);
    },
  };
}

/**
 * Plain XADD of the entry capture would append: same envelope fields, same Avro payload, same
 * partition streams (under another prefix). The record is encoded per write, as any producer
 * would, but neither validated nor cached.
 */
function rawSide(redis: Redis, keys: Keys, capture: Capture): Side {
  const { id: schemaId, type } = capture.schemaOf(ENTITY);
  const args = (i: number): [string, ...Array<string | Buffer>] => {
    const record = todo(i);
    const key = String(record.id);
    const fields = upsertEnvelope(key, schemaId, type.toBuffer(record));
    return [keys.stream(ENTITY, partitionOf(key, PARTITIONS)), '*', ...fields];
  };
  return {
    single: (i) => redis.xadd(...args(i)),
    batch: (from, to) => {
      const pipeline = redis.pipeline();
      for (let i = from; i < to; i++) pipeline.xadd(...args(i));
      return pipeline.exec();
    },
  };
}

/** The stream fields capture appends for an upsert of `key`, captured now. */
function upsertEnvelope(key: string, schemaId: number, payload: Buffer): Array<string | Buffer> {
  return encodeEnvelope({
    op: 'upsert',
    entity: ENTITY,
    key,
    capturedAt: Date.now(),
    schemaId,
    payload,
  });
}

/** A batched load: writes records `from` to `to` (exclusive). */
type BatchPhase = (from: number, to: number) => Promise<unknown>;

/**
 * Diagnostics (`--breakdown`): capture's batched load taken apart. `prepare only` is capture's
 * client-side work alone (validate, normalize, Avro-encode, JSON for the cache, envelope), no
 * Redis. The EVALSHA phases do that same work and send capture's exact arguments, pipelined, to
 * scripts that do nothing, only XADD, or XADD + HSET: the steps from raw XADD to capture show
 * what the script call, its arguments and the cache write each cost.
 */
function breakdownPhases(redis: Redis, keys: Keys, capture: Capture): Record<string, BatchPhase> {
  const { id: schemaId, type } = capture.schemaOf(ENTITY);
  // Diagnostic-only scripts taking one write per call, its event's field names and values
  // together (the layout a single write had before it became a batch of one through
  // capture-write.lua); they never touch real data.
  const scripts = {
    benchNoop: 'return 1',
    benchXadd: "return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 7))",
    benchXaddHset: [
      "local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 7))",
      "redis.call('HSET', KEYS[1], 'd', ARGV[2], 'v', id, 's', ARGV[3])",
      'return {id, 1}',
    ].join('\n'),
  } as const;
  for (const [name, lua] of Object.entries(scripts)) {
    redis.defineCommand(name, { numberOfKeys: 3, lua });
  }
  const prepared = (i: number): Array<string | number | Buffer> => {
    const record = prepareRecord(ENTITY, type, todo(i));
    const key = String(record.id);
    const partition = partitionOf(key, PARTITIONS);
    const fields = upsertEnvelope(key, schemaId, type.toBuffer(record));
    return [
      keys.cache(ENTITY, partition, key),
      keys.stream(ENTITY, partition),
      keys.idempotency(ENTITY, partition, key, ''),
      'u',
      JSON.stringify(record),
      String(schemaId),
      '',
      86_400_000,
      '',
      ...fields,
    ];
  };
  const scripted =
    (command: keyof typeof scripts): BatchPhase =>
    (from, to) => {
      // Commands added by defineCommand are not in ioredis' types.
      const pipeline = redis.pipeline() as unknown as Record<
        string,
        (...args: Array<string | number | Buffer>) => unknown
      > & { exec(): Promise<unknown> };
      for (let i = from; i < to; i++) pipeline[command]!(...prepared(i));
      return pipeline.exec();
    };
  return {
    'prepare only, no Redis': async (from, to) => {
      for (let i = from; i < to; i++) prepared(i);
    },
    'EVALSHA of a no-op script, capture arguments': scripted('benchNoop'),
    'EVALSHA of XADD only': scripted('benchXadd'),
    'EVALSHA of XADD + HSET': scripted('benchXaddHset'),
  };
}

/**
 * CPU time the Redis server process has used, µs (INFO cpu). Unlike INFO commandstats it counts
 * request parsing and replies too, and does not count a script's inner commands twice.
 */
async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const prefix = `bench_capture_${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;
  let capture: Capture | undefined;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    capture = await createCapture({
      redis: { url: redisUrl },
      prefix,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    const sides = {
      raw: rawSide(redis, new Keys(`${prefix}:raw`), capture),
      capture: captureSide(capture),
    };
    const diagnostics = options.breakdown
      ? breakdownPhases(redis, new Keys(`${prefix}:diag`), capture)
      : {};
    const single = { raw: [] as Latency[], capture: [] as Latency[] };
    const throughput = { raw: [] as number[], capture: [] as number[] };
    const ratios: number[] = [];
    /** Per round: capture's single-write latency over raw's, at p50 and at p99. */
    const singleRatios = { p50: [] as number[], p99: [] as number[] };
    /** Per batched phase: events/s and Redis µs per event, one entry per round. */
    const phases = new Map<string, { rate: number[]; redisMicros: number[] }>();
    const runBatched = async (name: string, phase: BatchPhase): Promise<number> => {
      const busyBefore = options.breakdown ? await redisCpuMicros(redis) : 0;
      const rate = await batched(options.records, options.batch, phase);
      const busy = options.breakdown ? (await redisCpuMicros(redis)) - busyBefore : Number.NaN;
      const entry = phases.get(name) ?? { rate: [], redisMicros: [] };
      entry.rate.push(rate);
      entry.redisMicros.push(busy / options.records);
      phases.set(name, entry);
      return rate;
    };

    log(
      `capture bench: ${options.rounds} rounds, ${options.single} single writes ` +
        `(+${options.warmup} warm-up), ${options.records} records in batches of ${options.batch}`,
    );
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which side goes first so drift in the machine's load hits both.
      const order = round % 2 === 0 ? (['raw', 'capture'] as const) : (['capture', 'raw'] as const);
      for (const name of order) {
        single[name].push(
          await sequential(options.warmup, options.single, round * 1_000_000, sides[name].single),
        );
      }
      singleRatios.p50.push(single.capture.at(-1)!.p50 / single.raw.at(-1)!.p50);
      singleRatios.p99.push(single.capture.at(-1)!.p99 / single.raw.at(-1)!.p99);
      for (const name of order) {
        throughput[name].push(await runBatched(name, sides[name].batch));
      }
      ratios.push(throughput.capture.at(-1)! / throughput.raw.at(-1)!);
      for (const [name, phase] of Object.entries(diagnostics)) await runBatched(name, phase);
      log(
        `round ${round + 1}: single p50 raw ${fmt(single.raw.at(-1)!.p50, 3)} ms, capture ` +
          `${fmt(single.capture.at(-1)!.p50, 3)} ms; batched raw ${fmtRate(throughput.raw.at(-1)!)}/s, ` +
          `capture ${fmtRate(throughput.capture.at(-1)!)}/s (${fmt(ratios.at(-1)!, 2)}x)`,
      );
      // Start every round from the same state: the streams only grow otherwise.
      await deleteUnder(redis, `${prefix}:raw:*`);
      await deleteUnder(redis, `${prefix}:diag:*`);
      for (let p = 0; p < PARTITIONS; p++) await redis.unlink(capture.keys.stream(ENTITY, p));
    }

    const result = {
      bench: 'capture',
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      cpus: cpus().length,
      redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
      options,
      single: {
        raw: {
          p50: median(single.raw.map((l) => l.p50)),
          p99: median(single.raw.map((l) => l.p99)),
        },
        capture: {
          p50: median(single.capture.map((l) => l.p50)),
          p99: median(single.capture.map((l) => l.p99)),
        },
        ratioP50: median(singleRatios.p50),
        ratioP99: median(singleRatios.p99),
        ratiosP50: singleRatios.p50,
        ratiosP99: singleRatios.p99,
      },
      batched: {
        raw: median(throughput.raw),
        capture: median(throughput.capture),
        ratio: median(ratios),
        ratios,
      },
      breakdown: options.breakdown
        ? Object.fromEntries(
            [...phases].map(([name, p]) => [
              name,
              { eventsPerSecond: median(p.rate), redisMicrosPerEvent: median(p.redisMicros) },
            ]),
          )
        : undefined,
      target: TARGET_RATIO,
      meetsTarget: median(ratios) >= TARGET_RATIO,
    };

    const s = result.single;
    const b = result.batched;
    const lines = [
      '| measure | raw XADD | capture | capture / raw |',
      '|---|---:|---:|---:|',
      `| single write p50 (ms) | ${fmt(s.raw.p50, 3)} | ${fmt(s.capture.p50, 3)} | ${fmt(s.capture.p50 / s.raw.p50, 2)}x |`,
      `| single write p99 (ms) | ${fmt(s.raw.p99, 3)} | ${fmt(s.capture.p99, 3)} | ${fmt(s.capture.p99 / s.raw.p99, 2)}x |`,
      `| batched, ${options.batch} per call (events/s) | ${fmtRate(b.raw)} | ${fmtRate(b.capture)} | **${fmt(b.ratio, 2)}x** |`,
    ];
    if (result.breakdown) {
      lines.push(
        '',
        '| batched phase | events/s | vs raw XADD | Redis CPU µs / event |',
        '|---|---:|---:|---:|',
      );
      for (const [name, p] of Object.entries(result.breakdown)) {
        lines.push(
          `| ${PHASE_LABELS[name] ?? name} | ${fmtRate(p.eventsPerSecond)} | ${fmt(p.eventsPerSecond / b.raw, 2)}x | ${fmt(p.redisMicrosPerEvent, 1)} |`,
        );
      }
    }
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
    process.stdout.write(
      `batched capture / raw XADD = ${fmt(b.ratio, 2)}x ` +
        `(median of the per-round ratios ${ratios.map((r) => fmt(r, 2)).join(', ')}); ` +
        `target >= ${TARGET_RATIO}x: ${result.meetsTarget ? 'met' : 'NOT met'}\n`,
    );
    process.stdout.write(
      `single write capture / raw = ${fmt(s.ratioP50, 2)}x at p50 ` +
        `(per round ${s.ratiosP50.map((r) => fmt(r, 2)).join(', ')}), ` +
        `${fmt(s.ratioP99, 2)}x at p99 (per round ${s.ratiosP99.map((r) => fmt(r, 2)).join(', ')})\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await capture?.close();
    await deleteUnder(redis, `${prefix}:*`);
    await redis.quit();
  }
}

await main();
