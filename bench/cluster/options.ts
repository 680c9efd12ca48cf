import { Command, Option } from 'commander';
import { eventsOption, keysOption, positiveInteger, roundsOption } from '../support/options.ts';

/** What `run.ts` measures and how much. */
export interface BenchOptions {
  /** Rounds of both sides; the side that goes first alternates. Default 3. */
  rounds: number;
  /** Events written with `writeMany` and then drained, per round and side. Default 100 000. */
  events: number;
  /** Distinct entity keys the events are spread over. Default 10 000. */
  keys: number;
  /** Writes per `writeMany` call. Default 1000. */
  chunk: number;
  /** Sink batch size (entries per read over all partitions). Default 1000. */
  batchSize: number;
  /**
   * Events each side writes and drains once before the first round, unmeasured, so that the
   * code of both paths is compiled before either is timed. Default 10 000; 0 skips it.
   */
  warmup: number;
}

/** The command line (and BENCH_* variables) of `run.ts`. */
export function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench-cluster')
    .description(
      'capture.writeMany and a PostgreSQL sink drain on a Redis Cluster beside one Redis server',
    )
    .addOption(roundsOption(3))
    .addOption(eventsOption('events written and drained per round and side', 100_000))
    .addOption(keysOption(10_000))
    .addOption(
      new Option('--chunk <n>', 'writes per writeMany call')
        .env('BENCH_CHUNK')
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(
      new Option('--batch-size <n>', 'sink batch size')
        .env('BENCH_BATCH_SIZE')
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(
      new Option('--warmup <n>', 'unmeasured events per side before the rounds (0: none)')
        .env('BENCH_WARMUP')
        .argParser((value: string) => {
          const n = Number(value);
          if (!Number.isInteger(n) || n < 0) throw new Error('--warmup must be an integer >= 0');
          return n;
        })
        .default(10_000),
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}
