/**
 * Kafka bridge benchmark: how fast the bridge service drains a backlog into Kafka next to raw
 * kafkajs producers sending the same records, and how long an event takes from capture to a
 * read_committed consumer, measured in one run.
 *
 *   node --import tsx bench/bridge-kafka/run.ts [--rounds 3] [--events 200000] [--keys 10000]
 *       [--partitions 8] [--batch 1000] [--rate 5000] [--seconds 10] [--brokers 127.0.0.1:9092]
 *       [--profile <dir>]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_EVENTS, BENCH_KEYS,
 * BENCH_PARTITIONS, BENCH_BATCH, BENCH_RATE, BENCH_SECONDS, KAFKA_BROKERS, BENCH_PROFILE); REDIS_URL
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
 * - raw transactional producer, one transaction per apply (the records the bridge commits in one
 *   apply), one after the other: the target is the bridge at >= 0.9x its rate;
 * - raw transactional producers, one per partition, each apply's partition transactions in
 *   parallel: what the bridge does, without Redis, offsets or a separate process;
 * - the bridge service (`services/bridge-kafka/src/main.ts`) as a child process under a fresh
 *   name (its own consumer group reads the backlog from the start), timed from its "sink started"
 *   line until every partition's applied watermark is the stream's last id.
 * All producers have the bridge's settings: one request in flight, kafkajs retries from 10 ms.
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
import { loadBacklog } from './backlog.ts';
import { type BenchRun, createRunTopic, openRun } from './bench-run.ts';
import { bridgeDrain } from './bridge-drain.ts';
import { bridgeLatency, rawLatency } from './latency.ts';
import { parseOptions } from './options.ts';
import { rawIdempotent, rawTransactional, rawTransactionalPerPartition } from './raw-producers.ts';
import { type Phase, type Round, report } from './report.ts';

const options = parseOptions(process.argv);
const schema = JSON.parse(
  readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
) as AvroSchema;

async function round(run: BenchRun, backlog: Awaited<ReturnType<typeof loadBacklog>>, r: number) {
  const ms = {} as Record<Phase, number>;
  let bridge = { cpuMs: 0, peakRssMb: 0 };
  const phases: Array<[Phase, () => Promise<void>]> = [
    [
      'idempotent',
      async () => {
        ms.idempotent = await rawIdempotent(
          run,
          backlog,
          await createRunTopic(run, `raw-idem-${r}`),
        );
      },
    ],
    [
      'transactional',
      async () => {
        ms.transactional = await rawTransactional(
          run,
          backlog,
          await createRunTopic(run, `raw-txn-${r}`),
          String(r),
        );
      },
    ],
    [
      'perPartition',
      async () => {
        ms.perPartition = await rawTransactionalPerPartition(
          run,
          backlog,
          await createRunTopic(run, `raw-pp-${r}`),
          String(r),
        );
      },
    ],
    [
      'bridge',
      async () => {
        const drained = await bridgeDrain(run, backlog, `kafka_r${r}`);
        ms.bridge = drained.ms;
        bridge = drained;
      },
    ],
  ];
  if (r % 2 === 1) phases.reverse();
  for (const [phase, measure] of phases) {
    await measure();
    process.stderr.write(`round ${r + 1}: ${phase} ${Math.round(ms[phase])} ms\n`);
  }
  return { ms, bridgeCpuMs: bridge.cpuMs, bridgePeakRssMb: bridge.peakRssMb } satisfies Round;
}

const run = await openRun(options, schema);
try {
  const backlog = await loadBacklog(run);
  const rounds: Round[] = [];
  for (let r = 0; r < options.rounds; r++) rounds.push(await round(run, backlog, r));
  const latency = {
    bridge: await bridgeLatency(run, backlog),
    raw: await rawLatency(run, backlog),
  };
  const environment = `${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, Node ${process.version}, brokers ${options.brokers}`;
  const { text, json } = report(options, rounds, latency, environment);
  console.log(text);
  console.log(JSON.stringify(json));
} finally {
  await run.close();
}
