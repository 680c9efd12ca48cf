import { Command, InvalidArgumentError, Option } from 'commander';
import { positiveInteger, roundsOption } from '../support/options.ts';

/** What a run can measure: the drains of report.ts's PHASES, and the latency phase. */
export const PHASE_NAMES = [
  'idempotent',
  'bridgeSized',
  'perApply',
  'perPartition',
  'bridge',
  'compare',
  'latency',
] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

function phaseList(value: string): Set<PhaseName> {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(PHASE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0)
    throw new InvalidArgumentError(`phases are a comma list of ${PHASE_NAMES.join(', ')}`);
  return new Set(names as PhaseName[]);
}

/** What the Kafka bridge benchmark measures and how much. */
export interface BridgeBenchOptions {
  /** Rounds of every drain phase; the report gives medians. Default 3. */
  rounds: number;
  /** Changes in the backlog every drain produces. Default 200 000. */
  events: number;
  /** Distinct entity keys. Default 10 000. */
  keys: number;
  /** Stream partitions of the entity (and partitions of every topic). Default 8. */
  partitions: number;
  /** SINK_BATCH_SIZE of the bridge: entries per batch over all its partitions. Default 4000, the bridge's. */
  batch: number;
  /** Events per second written during the latency phase. Default 5000. */
  rate: number;
  /** Seconds the latency phase writes for. Default 10. */
  seconds: number;
  /** Brokers: KAFKA_BROKERS, default 127.0.0.1:9092. */
  brokers: string;
  /**
   * Phases to run, of `PHASE_NAMES`: the drains (`idempotent`, `bridgeSized`, `perApply`,
   * `perPartition`, `bridge`) and `latency`. Default all; `--phases bridge` measures the
   * bridge's CPU alone.
   */
  phases: Set<PhaseName>;
  /**
   * Main module of another bridge service (e.g. an earlier revision's
   * `services/bridge-kafka/src/main.ts`, extracted with `git archive` beside its `runtime/`),
   * drained as the `compare` phase in the same rounds as the bridge, for a side-by-side
   * comparison on the same load. Default none.
   */
  compareMain?: string;
  /**
   * Directory for V8 CPU profiles of the bridge services (`--cpu-prof`, which NODE_OPTIONS does
   * not take), one folder per service run. Default none.
   */
  profile?: string;
}

export function parseOptions(argv: string[]): BridgeBenchOptions {
  const integer = (flags: string, description: string, variable: string, fallback: number) =>
    new Option(flags, description).env(variable).argParser(positiveInteger).default(fallback);
  const options = new Command('bench-bridge-kafka')
    .description(
      'Kafka bridge drain rate beside raw kafkajs producers, and its latency, in one run',
    )
    .addOption(roundsOption(3))
    .addOption(integer('--events <n>', 'changes in the backlog', 'BENCH_EVENTS', 200_000))
    .addOption(integer('--keys <n>', 'distinct keys', 'BENCH_KEYS', 10_000))
    .addOption(integer('--partitions <n>', 'stream and topic partitions', 'BENCH_PARTITIONS', 8))
    .addOption(integer('--batch <n>', "the bridge's SINK_BATCH_SIZE", 'BENCH_BATCH', 4000))
    .addOption(integer('--rate <n>', 'events/s of the latency phase', 'BENCH_RATE', 5000))
    .addOption(integer('--seconds <n>', 'length of the latency phase', 'BENCH_SECONDS', 10))
    .addOption(
      new Option('--brokers <list>', 'Kafka bootstrap brokers')
        .env('KAFKA_BROKERS')
        .default('127.0.0.1:9092'),
    )
    .addOption(
      new Option('--phases <list>', `phases to run, of ${PHASE_NAMES.join(',')}`)
        .env('BENCH_PHASES')
        .argParser(phaseList)
        .default(new Set(PHASE_NAMES.filter((phase) => phase !== 'compare')), 'all but compare'),
    )
    .addOption(
      new Option(
        '--compare-main <path>',
        'another bridge service main module, drained as the compare phase',
      ).env('BENCH_COMPARE_MAIN'),
    )
    .addOption(
      new Option('--profile <dir>', 'write V8 CPU profiles of the bridge services here').env(
        'BENCH_PROFILE',
      ),
    )
    .parse(argv)
    .opts<BridgeBenchOptions>();
  if (options.compareMain !== undefined) options.phases.add('compare');
  if (options.phases.has('compare') && options.compareMain === undefined)
    throw new InvalidArgumentError('the compare phase needs --compare-main');
  return options;
}
