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
 *
 * This file reads options, runs the phases and prints the report; each part is a file beside it:
 * options.ts (the command line), bench-run.ts (connections, names, cleanup), backlog.ts and
 * reads.ts (the backlog and how the sink reads it), drain-rounds.ts (the rounds of drains:
 * raw-drain.ts, child-drain.ts and, for the breakdown, direct-apply.ts, read-alone.ts,
 * in-process-drain.ts, decode-cost.ts), freshness.ts, summary.ts and report.ts. The services are
 * started by postgres-service.ts, watched through watermark-tracker.ts, and every run's tables
 * live in a schema of run-schemas.ts.
 */
import { fmtRate } from '../support/numbers.ts';
import { preload } from './backlog.ts';
import { BenchRun } from './bench-run.ts';
import { drainRounds } from './drain-rounds.ts';
import { freshnessRuns } from './freshness.ts';
import { parseOptions } from './options.ts';
import { printReport } from './report.ts';
import { summarize } from './summary.ts';

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const run = await BenchRun.open(options);
  const runStarted = performance.now();
  try {
    const capture = await run.openCapture(run.drainPrefix);
    run.log(
      `sink-postgres bench: ${options.events} upserts over ${options.keys} keys, ` +
        `batch sizes ${options.batchSizes.join(', ')}, ${options.rounds} rounds; ` +
        `freshness ${options.rate}/s for ${options.seconds} s`,
    );
    const backlog = await preload(capture, options.events, options.keys);
    run.log(`backlog written (capture.writeMany ${fmtRate(backlog.loadRate)} events/s)`);
    const drains = await drainRounds(run, capture, backlog);
    const fresh = await freshnessRuns(run);
    const sizes = summarize(options, drains, fresh);
    printReport(sizes, {
      options,
      ...(await run.versions()),
      preloadEventsPerSecond: backlog.loadRate,
      decodeMicros: drains.decodeMicros,
      runSeconds: Math.round((performance.now() - runStarted) / 1000),
    });
  } finally {
    await run.close();
  }
}

await main();
