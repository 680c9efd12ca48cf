/**
 * How a sink is doing on one partition, judged over a sliding window of samples rather than
 * against a fixed threshold: a sink far behind that is catching up is fine, a sink a few entries
 * behind that has not moved for a minute is not.
 *
 * - `ok`: caught up at some moment of the window, or behind and not falling further behind.
 * - `lagging`: behind over the whole window, the applied position moving, the lag growing.
 * - `stalled`: behind over the whole window and the applied position not moving.
 * - `stopped`: no live instance of the sink holds the partition: nothing will apply it.
 */
export type PartitionState = 'ok' | 'lagging' | 'stalled' | 'stopped';

/** Every state, in the order of their numeric codes (what the state gauge documents). */
export const PARTITION_STATES: readonly PartitionState[] = ['ok', 'lagging', 'stalled', 'stopped'];

/** One reading of a sink's position on a partition. */
export interface LagSample {
  /** When it was read, ms. */
  at: number;
  /** Entries not applied (`entriesBehind`); undefined when Redis cannot tell. */
  behind: number | undefined;
  /** Age of the oldest unapplied entry, ms; 0 when there is none. */
  oldestUnappliedMs: number;
  /** The sink's applied watermark. */
  applied: string;
  /** The stream's entries-added counter (XINFO STREAM), for the rates; undefined if unknown. */
  added: number | undefined;
}

/** The verdict on a partition and the rates it was drawn from. */
export interface PartitionJudgement {
  state: PartitionState;
  /** Entries applied per second over the window; undefined with fewer than two samples. */
  applyRate: number | undefined;
  /** Entries written per second over the window; undefined with fewer than two samples. */
  writeRate: number | undefined;
  /**
   * Seconds until caught up at the window's rates: 0 when caught up, undefined when the sink
   * does not gain on the writers (or the rates are unknown).
   */
  catchUpSeconds: number | undefined;
}

/** Whether a sample shows unapplied entries (by count, or by age when the count is unknown). */
function isBehind(sample: LagSample): boolean {
  return sample.behind === undefined ? sample.oldestUnappliedMs > 0 : sample.behind > 0;
}

/**
 * Judges the newest sample against the window before it. `samples` are oldest first; those older
 * than `windowMs` before the newest are ignored, except the last of them, which stands for the
 * position one window ago (the samples are taken every few seconds, not exactly a window apart).
 * With a single sample nothing has moved yet: behind is `ok` until a window shows otherwise.
 */
export function judgePartition(
  samples: readonly LagSample[],
  held: boolean,
  windowMs: number,
): PartitionJudgement {
  const last = samples.at(-1);
  if (!last) return { state: held ? 'ok' : 'stopped', ...NO_RATES };
  let from = samples.length - 1;
  while (from > 0 && samples[from - 1]!.at >= last.at - windowMs) from--;
  // One sample further back, if any: the position a window ago.
  if (from > 0) from--;
  const window = samples.slice(from);
  const first = window[0]!;
  const rates = ratesOver(first, last);
  if (!held) return { state: 'stopped', ...rates };
  if (!isBehind(last) || window.length < 2 || !window.every(isBehind)) {
    return { state: 'ok', ...rates };
  }
  if (window.every((s) => s.applied === first.applied)) return { state: 'stalled', ...rates };
  const growing =
    last.behind !== undefined && first.behind !== undefined
      ? last.behind > first.behind
      : last.oldestUnappliedMs > first.oldestUnappliedMs;
  return { state: growing ? 'lagging' : 'ok', ...rates };
}

const NO_RATES = { applyRate: undefined, writeRate: undefined, catchUpSeconds: undefined };

/**
 * Applied entries are what was written minus what the lag grew by: `entries-added` counts every
 * write, `behind` every unapplied entry, so no stream range needs counting.
 */
function ratesOver(first: LagSample, last: LagSample): Omit<PartitionJudgement, 'state'> {
  const seconds = (last.at - first.at) / 1000;
  const behind = last.behind;
  if (!(seconds > 0) || first.added === undefined || last.added === undefined) {
    return { ...NO_RATES, catchUpSeconds: behind === 0 ? 0 : undefined };
  }
  const written = last.added - first.added;
  const writeRate = written / seconds;
  if (behind === undefined || first.behind === undefined) {
    return { applyRate: undefined, writeRate, catchUpSeconds: undefined };
  }
  const applyRate = Math.max(0, written - (behind - first.behind)) / seconds;
  const gain = applyRate - writeRate;
  return {
    applyRate,
    writeRate,
    catchUpSeconds: behind === 0 ? 0 : gain > 0 ? behind / gain : undefined,
  };
}
