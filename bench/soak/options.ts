import { Command, InvalidArgumentError, Option } from 'commander';
import { keysOption, positiveInteger } from '../support/options.ts';

/** What the soak runs and what it calls bounded. */
export interface SoakOptions {
  /** Writes per second through capture.writeMany. Default 1500. */
  rate: number;
  /** How long the load lasts, s. Default 180. */
  seconds: number;
  /** Distinct keys the writes are spread over. Default 100 000. */
  keys: number;
  /** Seconds between two lag samples. Default 2. */
  sampleEvery: number;
  /**
   * The most entries (all partitions together) a sink may be behind at any sample of the load's
   * second half and still count as keeping up. Default: 10 s of writes (`rate` × 10).
   */
  maxBehind: number | undefined;
  /** After the load, how long a sink may take to apply everything, s. Default 30. */
  drainSeconds: number;
  /** SINK_BATCH_SIZE of both services. Default 1000, the services' own default. */
  sinkBatch: number;
  /** SINK_BLOCK_MS of both services. Default 1000, the services' own default. */
  sinkBlockMs: number;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/** Reads the command line (each option also from a BENCH_* variable). */
export function parseSoakOptions(argv: string[]): SoakOptions {
  const program = new Command('bench-soak')
    .description('both sinks under a steady write rate: does each one keep up?')
    .addOption(
      new Option('--rate <n>', 'writes per second')
        .env('BENCH_RATE')
        .argParser(positiveInteger)
        .default(1500),
    )
    .addOption(
      new Option('--seconds <n>', 'length of the load, s')
        .env('BENCH_SECONDS')
        .argParser(positiveInteger)
        .default(180),
    )
    .addOption(keysOption(100_000))
    .addOption(
      new Option('--sample-every <s>', 'seconds between lag samples')
        .env('BENCH_SAMPLE_EVERY')
        .argParser(positiveNumber)
        .default(2),
    )
    .addOption(
      new Option(
        '--max-behind <n>',
        'entries behind allowed in the second half (default rate x 10)',
      )
        .env('BENCH_MAX_BEHIND')
        .argParser(positiveInteger),
    )
    .addOption(
      new Option('--drain-seconds <n>', 'time allowed to catch up after the load, s')
        .env('BENCH_DRAIN_SECONDS')
        .argParser(positiveInteger)
        .default(30),
    )
    .addOption(
      new Option('--sink-batch <n>', 'SINK_BATCH_SIZE of the services')
        .env('BENCH_SINK_BATCH')
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(
      new Option('--sink-block-ms <n>', 'SINK_BLOCK_MS of the services')
        .env('BENCH_SINK_BLOCK_MS')
        .argParser(positiveInteger)
        .default(1000),
    )
    .parse(argv);
  return program.opts<SoakOptions>();
}
