import { InvalidArgumentError, Option } from 'commander';

/** commander argParser for counts: a positive integer (commander names the option on error). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** The `--rounds <n>` option (env BENCH_ROUNDS) every benchmark takes. */
export function roundsOption(defaultRounds: number): Option {
  return new Option('--rounds <n>', 'rounds (medians reported)')
    .env('BENCH_ROUNDS')
    .argParser(positiveInteger)
    .default(defaultRounds);
}

/** The `--events <n>` option (env BENCH_EVENTS): how many events a benchmark works through. */
export function eventsOption(description: string, defaultEvents: number): Option {
  return new Option('--events <n>', description)
    .env('BENCH_EVENTS')
    .argParser(positiveInteger)
    .default(defaultEvents);
}

/** The `--keys <n>` option (env BENCH_KEYS): how many distinct entity keys the events spread over. */
export function keysOption(defaultKeys: number): Option {
  return new Option('--keys <n>', 'distinct keys')
    .env('BENCH_KEYS')
    .argParser(positiveInteger)
    .default(defaultKeys);
}
