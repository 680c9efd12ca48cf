import { Command, Option } from 'commander';
import { keysOption, positiveInteger, roundsOption } from '../support/options.ts';

/** What `run.ts` measures and how much. */
export interface BenchOptions {
  /**
   * Rounds of raw + subject per batch size; the report gives medians. Default 4: the side that
   * goes first alternates, and an even count weighs both orders alike.
   */
  rounds: number;
  /** Upserts in the backlog each drain run applies. Default 100 000. */
  events: number;
  /** Distinct entity keys the upserts are spread over. Default 10 000. */
  keys: number;
  /** Sink batch sizes (SINK_BATCH_SIZE) to compare, each measured every round. Default 1000,2000. */
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

/** The node flags scripts/up.sh and docker-compose.yml run sink services with. */
const DEPLOYED_NODE_FLAGS = '';

/** The command line (and BENCH_* variables) of `run.ts`. */
export function parseOptions(argv: string[]): BenchOptions {
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
    .addOption(keysOption(10_000))
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
