/**
 * Kafka bridge benchmark: how fast the bridge service drains a backlog into Kafka next to raw
 * kafkajs producers sending the same records, and how long an event takes from capture to a
 * read_committed consumer, measured in one run.
 *
 *   node --import tsx bench/bridge-kafka/run.ts [--rounds 3] [--events 200000] [--keys 10000]
 *       [--partitions 8] [--batch 4000] [--rate 5000] [--seconds 10] [--brokers 127.0.0.1:9092]
 *       [--phases idempotent,bridgeSized,perApply,perPartition,bridge,latency] [--profile <dir>]
 *       [--compare-main <path>]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_EVENTS, BENCH_KEYS,
 * BENCH_PARTITIONS, BENCH_BATCH, BENCH_RATE, BENCH_SECONDS, KAFKA_BROKERS, BENCH_PHASES,
 * BENCH_PROFILE, BENCH_COMPARE_MAIN); REDIS_URL
 * says where Redis is. `--profile <dir>` writes V8 CPU profiles of the bridge services, one folder
 * per service run, read with `node --import tsx bench/sink-postgres/profile-summary.ts <file>`.
 *
 * Backlog: `--events` changes of `todo` over `--keys` keys (seeded, every 20th a delete), written
 * once to `--partitions` streams. The raw producers send exactly the records the bridge makes of
 * it (key, Confluent wire-format value or tombstone, cdc.* headers, Kafka partition), grouped as
 * the runner hands them to the bridge: each apply takes ceil(batch / partitions) entries of every
 * partition.
 *
 * Drain phases, each round in an order reversed every other round, each raw one into a fresh topic:
 * - raw idempotent producer, no transactions, one send per apply: the ceiling;
 * - raw transactional producer, one transaction per partition batch (the records the bridge
 *   commits in one transaction, without its offset record), one after the other: the issue's
 *   baseline, "transactional with transactions of the bridge's size"; the target is the bridge
 *   at >= 0.9x its rate;
 * - raw transactional producer, one transaction per apply (all the records the bridge commits in
 *   one apply, over all partitions: fewer, larger transactions), one after the other: stricter;
 * - raw transactional producers, one per partition, each apply's partition transactions in
 *   parallel: what the bridge does, without Redis, offsets or a separate process;
 * - the bridge service (`services/bridge-kafka/src/main.ts`) as a child process under a fresh
 *   name (its own consumer group reads the backlog from the start), timed from its "sink started"
 *   line until every partition's applied watermark is the stream's last id.
 * All producers have the bridge's settings: one request in flight, kafkajs retries from 10 ms.
 * The bridge's CPU is that of its process during the drain (from /proc), without start-up.
 * `--phases` runs some of the phases only (`--phases bridge`: the bridge's rate and CPU alone).
 * `--compare-main <path>` adds the `compare` phase: another bridge service (an earlier revision's
 * main module, say, extracted with `git archive`) drains the backlog in the same rounds, so two
 * revisions are compared on the same load.
 *
 * Latency: a bridge caught up with the backlog, capture writing `--rate` events/s (a writeMany
 * every 20 ms) for `--seconds`; a read_committed consumer measures each record's age from its
 * cdc.captured_at header. Beside it, an idempotent producer sends as many records at the same
 * cadence straight to a topic, stamped when sent. Redis keys live under a fresh prefix and its
 * topics are deleted at the end.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { type Backlog, loadBacklog } from './backlog.ts';
import { type BenchRun, createRunTopic, openRun } from './bench-run.ts';
import { bridgeDrain } from './bridge-drain.ts';
import { bridgeLatency, rawLatency } from './latency.ts';
import { parseOptions } from './options.ts';
import {
  rawIdempotent,
  rawTransactionalBridgeSized,
  rawTransactionalPerApply,
  rawTransactionalPerPartition,
} from './raw-producers.ts';
import { PHASES, type Phase, type Round, report } from './report.ts';

const options = parseOptions(process.argv);
const schema = JSON.parse(
  readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
) as AvroSchema;

/** How each raw drain sends the backlog, and the topic name it sends it to. */
const RAW: Record<
  Exclude<Phase, 'bridge' | 'compare'>,
  {
    topic: string;
    send(run: BenchRun, backlog: Backlog, topic: string, id: string): Promise<number>;
  }
> = {
  idempotent: {
    topic: 'raw-idem',
    send: (run, backlog, topic) => rawIdempotent(run, backlog, topic),
  },
  bridgeSized: { topic: 'raw-bs', send: rawTransactionalBridgeSized },
  perApply: { topic: 'raw-txn', send: rawTransactionalPerApply },
  perPartition: { topic: 'raw-pp', send: rawTransactionalPerPartition },
};

async function round(run: BenchRun, backlog: Backlog, r: number): Promise<Round> {
  const result: Round = { ms: {}, cpuMs: {}, failures: {} };
  const phases = (Object.keys(PHASES) as Phase[]).filter((phase) => options.phases.has(phase));
  if (r % 2 === 1) phases.reverse();
  for (const phase of phases) {
    if (phase === 'bridge' || phase === 'compare') {
      const drained = await bridgeDrain(
        run,
        backlog,
        `${phase === 'bridge' ? 'kafka' : 'compare'}_r${r}`,
        phase === 'compare' ? options.compareMain : undefined,
      );
      result.ms[phase] = drained.ms;
      result.cpuMs[phase] = drained.cpuMs;
      result.failures[phase] = { aborted: drained.aborted, started: drained.producersStarted };
      if (phase === 'bridge') result.bridgePeakRssMb = drained.peakRssMb;
    } else {
      const raw = RAW[phase];
      const topic = await createRunTopic(run, `${raw.topic}-${r}`);
      // The benchmark process does nothing else meanwhile: its CPU is the raw producer's.
      const cpuBefore = process.cpuUsage();
      result.ms[phase] = await raw.send(run, backlog, topic, String(r));
      const cpu = process.cpuUsage(cpuBefore);
      result.cpuMs[phase] = (cpu.user + cpu.system) / 1000;
    }
    const failures = phase === 'bridge' || phase === 'compare' ? result.failures[phase] : undefined;
    process.stderr.write(
      `round ${r + 1}: ${phase} ${Math.round(result.ms[phase] ?? 0)} ms` +
        `, CPU ${Math.round(result.cpuMs[phase] ?? 0)} ms` +
        (failures
          ? `, ${failures.aborted} transactions aborted, ${failures.started} producers started`
          : '') +
        `, load ${loadavg()[0]!.toFixed(1)}\n`,
    );
  }
  return result;
}

const run = await openRun(options, schema);
try {
  const loadAtStart = loadavg()[0]!;
  const backlog = await loadBacklog(run);
  const rounds: Round[] = [];
  for (let r = 0; r < options.rounds; r++) rounds.push(await round(run, backlog, r));
  const latency = options.phases.has('latency')
    ? { bridge: await bridgeLatency(run, backlog), raw: await rawLatency(run, backlog) }
    : undefined;
  const environment = `${cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, Node ${process.version}, brokers ${options.brokers}`;
  const { text, json } = report(options, rounds, latency, environment);
  console.log(text);
  console.log(JSON.stringify(json));
} finally {
  await run.close();
}
