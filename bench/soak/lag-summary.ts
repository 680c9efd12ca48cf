import { slope } from '../support/least-squares.ts';
import { median } from '../support/numbers.ts';
import type { LagSample } from './lag-sampler.ts';

/** How one sink's lag went over a soak. */
export interface LagSummary {
  /** Samples taken during the load. */
  samples: number;
  /** Median and largest entries behind (all partitions) over the load. */
  medianBehind: number;
  maxBehind: number;
  /** Largest entries behind over the load's second half, when a sink that keeps up has settled. */
  secondHalfMaxBehind: number;
  /**
   * Least-squares slope of entries behind over the second half, entries/s: about 0 for a sink
   * that keeps up, about (write rate − apply rate) for one that does not.
   */
  secondHalfGrowthPerSecond: number;
  /** Age of the oldest unapplied entry, largest over the load, s. */
  maxOldestUnappliedSeconds: number;
  /** Samples whose lag Redis could not tell. */
  unknownSamples: number;
  /** From the end of the load until everything was applied, s; undefined if it never was. */
  caughtUpAfterSeconds: number | undefined;
  /** Behind at most the allowed entries all through the second half, and caught up in time. */
  bounded: boolean;
}

export function summarizeLag(
  samples: readonly LagSample[],
  loadMs: number,
  maxBehind: number,
  drainMs: number,
  caughtUpAfterMs: number | undefined,
): LagSummary {
  const during = samples.filter((s) => s.atMs >= 0 && s.atMs <= loadMs);
  const known = during.filter((s): s is LagSample & { behind: number } => s.behind !== undefined);
  const secondHalf = known.filter((s) => s.atMs >= loadMs / 2);
  const secondHalfMaxBehind = Math.max(0, ...secondHalf.map((s) => s.behind));
  const unknownSamples = during.length - known.length;
  return {
    samples: during.length,
    medianBehind: median(known.map((s) => s.behind)),
    maxBehind: Math.max(0, ...known.map((s) => s.behind)),
    secondHalfMaxBehind,
    secondHalfGrowthPerSecond: slope(secondHalf.map((s) => [s.atMs / 1000, s.behind] as const)),
    maxOldestUnappliedSeconds: Math.max(0, ...during.map((s) => s.oldestUnappliedMs)) / 1000,
    unknownSamples,
    caughtUpAfterSeconds: caughtUpAfterMs === undefined ? undefined : caughtUpAfterMs / 1000,
    bounded:
      unknownSamples === 0 &&
      secondHalf.length > 0 &&
      secondHalfMaxBehind <= maxBehind &&
      caughtUpAfterMs !== undefined &&
      caughtUpAfterMs <= drainMs,
  };
}
