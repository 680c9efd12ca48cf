import { Command, Option } from 'commander';
import { positiveInteger } from '../support/options.ts';

/** What `run.ts` measures and how much. */
export interface BenchOptions {
  /** Seconds each measured step sends for. Default 6. */
  seconds: number;
  /** Arrival rates (requests/s) of the ladder, ascending. Default 1000,2000,3000,4000,5000,6000,8000,10000. */
  rates: number[];
  /** Rates whose p50/p99 are reported for every subject, run even past a subject's limit. Default 1000,2000,5000. */
  reportRates: number[];
  /** Rates of the write-through subject. Default 1000,2000. */
  throughRates: number[];
  /** Keep-alive connections of the generator's pool to capture and to the bare route. Default 32. */
  connections: number;
  /**
   * Connections to the write-through subject. Default 256: a write-through is answered only after
   * the sink's cycle, so rate x latency requests must be in flight (32 capped it near 1000/s, the
   * rest queued in the pool).
   */
  throughConnections: number;
  /** Distinct entity keys the writes are drawn from. Default 100 000. */
  keys: number;
  /** p99 at or above which a rate is not sustained, ms. Default 50. */
  p99Limit: number;
  /** Requests in flight beyond which the generator drops a scheduled request (counted). Default 5000. */
  maxInFlight: number;
  /** Seconds of unmeasured load at 1000/s before a subject's first step. Default 3. */
  warmup: number;
  /** Skip the write-through subject (no PostgreSQL needed). Default off. */
  skipThrough: boolean;
}

function rateList(value: string): number[] {
  const rates = value.split(',').map((v) => positiveInteger(v.trim()));
  return [...new Set(rates)].sort((a, b) => a - b);
}

/** The command line (and BENCH_* variables) of `run.ts`. */
export function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench-capture-http')
    .description(
      'Open-loop HTTP load on the capture service beside a bare fastify XADD route, and write-through with the PostgreSQL sink, in one run',
    )
    .addOption(
      new Option('--seconds <n>', 'seconds per measured step')
        .env('BENCH_SECONDS')
        .argParser(positiveInteger)
        .default(6),
    )
    .addOption(
      new Option('--rates <list>', 'ladder of arrival rates, requests/s, comma-separated')
        .env('BENCH_RATES')
        .argParser(rateList)
        .default([1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000], '1000,...,10000'),
    )
    .addOption(
      new Option('--report-rates <list>', 'rates reported for every subject, even past its limit')
        .env('BENCH_REPORT_RATES')
        .argParser(rateList)
        .default([1000, 2000, 5000], '1000,2000,5000'),
    )
    .addOption(
      new Option('--through-rates <list>', 'rates of the write-through subject')
        .env('BENCH_THROUGH_RATES')
        .argParser(rateList)
        .default([1000, 2000], '1000,2000'),
    )
    .addOption(
      new Option('--connections <n>', 'keep-alive connections to capture and the bare route')
        .env('BENCH_CONNECTIONS')
        .argParser(positiveInteger)
        .default(32),
    )
    .addOption(
      new Option('--through-connections <n>', 'keep-alive connections for write-through')
        .env('BENCH_THROUGH_CONNECTIONS')
        .argParser(positiveInteger)
        .default(256),
    )
    .addOption(
      new Option('--keys <n>', 'distinct entity keys')
        .env('BENCH_KEYS')
        .argParser(positiveInteger)
        .default(100_000),
    )
    .addOption(
      new Option('--p99-limit <ms>', 'p99 at or above which a rate is not sustained')
        .env('BENCH_P99_LIMIT')
        .argParser(positiveInteger)
        .default(50),
    )
    .addOption(
      new Option('--max-in-flight <n>', 'in-flight requests beyond which a send is dropped')
        .env('BENCH_MAX_IN_FLIGHT')
        .argParser(positiveInteger)
        .default(5000),
    )
    .addOption(
      new Option('--warmup <s>', 'seconds of unmeasured load at 1000/s per subject')
        .env('BENCH_WARMUP')
        .argParser(positiveInteger)
        .default(3),
    )
    .addOption(
      new Option('--skip-through', 'skip the write-through subject (no sink, no PostgreSQL)')
        .env('BENCH_SKIP_THROUGH')
        .default(false),
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}
