/**
 * Retention soak: both sink services (PostgreSQL and MongoDB) as child processes with a project
 * file that gives the entity a short minimum age, under a steady write rate; samples Redis
 * (`INFO memory` used_memory, the partition streams' length and MEMORY USAGE) and says whether
 * the log levelled off: the streams' growth in the second half of the load is near zero.
 *
 *   node --import tsx bench/soak/retention.ts [--rate 1500] [--seconds 180] [--keys 10000]
 *        [--min-age 20s] [--interval-ms 5000] [--sample-every 5] [--no-retention]
 *
 * `--no-retention` runs the same load with the sinks' retention off (SINK_RETENTION_INTERVAL_MS=0),
 * for the slope without it. Keys are few by default so that the capture's cache (one hash per
 * key) is full early and what still grows is the log. REDIS_URL, POSTGRES_URL and MONGO_URL say
 * where the servers are; everything goes under a fresh prefix, schema and database, removed at
 * the end. Exit code 1 when the streams did not level off (with retention on).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { slope } from '../support/least-squares.ts';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate } from '../support/numbers.ts';
import { positiveInteger } from '../support/options.ts';
import { LagSampler } from './lag-sampler.ts';
import { removeSoakTargets } from './soak-targets.ts';
import { steadyLoad } from './steady-load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTITY = 'todo';
const PARTITIONS = 4;
const SINKS = ['postgres', 'mongo'] as const;
/** Second-half growth of the streams below this share of what was written counts as level. */
const LEVEL_SHARE = 0.05;

interface Options {
  rate: number;
  seconds: number;
  keys: number;
  minAge: string;
  intervalMs: number;
  sampleEvery: number;
  retention: boolean;
}

interface Sample {
  atS: number;
  usedMemory: number;
  streamEntries: number;
  streamBytes: number;
}

function parseOptions(argv: string[]): Options {
  return new Command('bench-soak-retention')
    .description('a steady load with retention running in the sinks: does Redis level off?')
    .addOption(
      new Option('--rate <n>', 'writes per second').argParser(positiveInteger).default(1500),
    )
    .addOption(
      new Option('--seconds <n>', 'length of the load, s').argParser(positiveInteger).default(180),
    )
    .addOption(new Option('--keys <n>', 'distinct keys').argParser(positiveInteger).default(10_000))
    .addOption(new Option('--min-age <d>', 'the entity retention minAge').default('20s'))
    .addOption(
      new Option('--interval-ms <n>', 'SINK_RETENTION_INTERVAL_MS')
        .argParser(positiveInteger)
        .default(5000),
    )
    .addOption(
      new Option('--sample-every <s>', 'seconds between samples')
        .argParser(positiveInteger)
        .default(5),
    )
    .option('--no-retention', 'the same load with retention off in the sinks')
    .parse(argv)
    .opts<Options>();
}

/** A sink service, started as scripts/up.sh starts it; resolves once it logged "sink started". */
function startSink(main: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('sink started')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code}: ${out}`)));
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
  const mongoUrl = process.env.MONGO_URL?.trim() || 'mongodb://127.0.0.1:27017/cdc';
  const ns = `bench_retention_${randomBytes(4).toString('hex')}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const redis = new Redis(redisUrl);
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  await mongo.connect();
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  admin.on('error', () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'cdc-retention-soak-'));
  const configFile = join(dir, 'cdc.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      entities: {
        [ENTITY]: { partitions: PARTITIONS, retention: { minAge: options.minAge } },
      },
    }),
  );
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;
  const children: ChildProcess[] = [];
  let capture: Capture | undefined;
  let streams: string[] = [];
  let ok = true;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
      );
      await removeSoakTargets({ ns, redis, mongo, admin, capture, log });
      rmSync(dir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  try {
    capture = await createCapture({
      redis: { url: redisUrl },
      prefix: ns,
      entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
    });
    const keys = capture.keys;
    streams = Array.from({ length: PARTITIONS }, (_, p) => keys.stream(ENTITY, p));
    const common = {
      ...process.env,
      REDIS_URL: redisUrl,
      CDC_PREFIX: ns,
      CDC_CONFIG: configFile,
      SCHEMAS_DIR: `${ROOT}schemas`,
      SINK_ENTITIES: ENTITY,
      SINK_METRICS_PORT: '0',
      SINK_RETENTION_INTERVAL_MS: options.retention ? String(options.intervalMs) : '0',
      // "sink started" is an info line: it says when a service is up.
      LOG_LEVEL: 'info',
    };
    for (const sink of SINKS) {
      const env: NodeJS.ProcessEnv =
        sink === 'postgres'
          ? { ...common, SINK_NAME: 'postgres', POSTGRES_URL: postgresUrl, POSTGRES_SCHEMA: ns }
          : {
              ...common,
              SINK_NAME: 'mongo',
              MONGO_URL: mongoUrl.replace(/^(mongodb:\/\/[^/?]*)(\/[^?]*)?/, `$1/${ns}`),
            };
      delete env.MONGO_TRANSACTIONS;
      env.SINK_CONSUMER = `${sink}-soak`;
      children.push(await startSink(`services/sink-${sink}/src/main.ts`, env));
    }
    log(
      `retention soak: ${fmtRate(options.rate)} writes/s for ${options.seconds} s over ` +
        `${fmtRate(options.keys)} keys; retention ${options.retention ? `on (minAge ${options.minAge}, every ${options.intervalMs} ms)` : 'off'}`,
    );
    const samples: Sample[] = [];
    const start = performance.now();
    let sampling = true;
    const sampler = (async () => {
      for (let n = 0; sampling; n++) {
        const info = await redis.info('memory');
        const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
        let streamEntries = 0;
        let streamBytes = 0;
        for (const stream of streams) {
          streamEntries += await redis.xlen(stream);
          streamBytes += Number((await redis.memory('USAGE', stream, 'SAMPLES', '0')) ?? 0);
        }
        const atS = (performance.now() - start) / 1000;
        samples.push({ atS, usedMemory, streamEntries, streamBytes });
        log(
          `${fmt(atS, 0)} s: used_memory ${fmt(usedMemory / 2 ** 20, 1)} MB, streams ` +
            `${fmtRate(streamEntries)} entries, ${fmt(streamBytes / 2 ** 20, 1)} MB`,
        );
        const next = start + (n + 1) * options.sampleEvery * 1000 - performance.now();
        if (next > 0) await sleep(next);
      }
    })();
    const load = await steadyLoad(capture, ENTITY, options);
    sampling = false;
    await sampler;
    const lag = new LagSampler(redis, capture.keys, ENTITY, PARTITIONS);
    const behind: string[] = [];
    for (const sink of SINKS) behind.push(`${sink} ${(await lag.sample(sink, 0)).behind ?? '?'}`);

    const half = options.seconds / 2;
    const first = samples.filter((s) => s.atS <= half);
    const second = samples.filter((s) => s.atS > half);
    const perMinute = (rows: Sample[], field: keyof Sample) =>
      orZero(slope(rows.map((s) => [s.atS, s[field]] as const))) * 60;
    const writtenPerMinute = load.writtenPerSecond * 60;
    const rows = (
      [
        ['used_memory (MB/min)', 'usedMemory', 2 ** 20],
        ['stream memory (MB/min)', 'streamBytes', 2 ** 20],
        ['stream entries (/min)', 'streamEntries', 1],
      ] as const
    ).map(([name, field, unit]) => [
      name,
      fmt(perMinute(first, field) / unit, 1),
      fmt(perMinute(second, field) / unit, 1),
    ]);
    const last = samples.at(-1)!;
    const secondHalfShare = perMinute(second, 'streamEntries') / writtenPerMinute;
    const level = Math.abs(secondHalfShare) < LEVEL_SHARE;
    process.stdout.write(
      `\n${fmtRate(load.written)} writes at ${fmtRate(load.writtenPerSecond)}/s; ` +
        `retention ${options.retention ? `on (minAge ${options.minAge}, every ${options.intervalMs} ms)` : 'off'}; ` +
        `at the end: used_memory ${fmt(last.usedMemory / 2 ** 20, 1)} MB ` +
        `(first sample ${fmt(samples[0]!.usedMemory / 2 ** 20, 1)} MB), streams ` +
        `${fmtRate(last.streamEntries)} entries, ${fmt(last.streamBytes / 2 ** 20, 1)} MB; ` +
        `sinks behind at the end: ${behind.join(', ')}\n\n` +
        `${markdownTable(['growth (slope)', 'first half', 'second half'], rows)}\n\n` +
        `second-half stream growth: ${fmt(secondHalfShare * 100, 1)} % of the writes ` +
        `(level below ${LEVEL_SHARE * 100} %): ${level ? 'levelled off' : 'still growing'}\n`,
    );
    ok = level || !options.retention;
  } finally {
    await cleanup();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

/** A slope the table can show: 0 where it is undefined (fewer than two samples). */
function orZero(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}
