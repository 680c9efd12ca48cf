import { InvalidArgumentError } from 'commander';

/** commander argParser for counts: a positive integer (commander names the option on error). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
