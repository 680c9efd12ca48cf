import { compareStreamIds } from '../stream-id.ts';
import { type GroupPosition, trimBound } from './trim-bound.ts';

/** The part of a stream kept only because one group still needs it. */
export interface HoldBackRange {
  group: string;
  /** The lowest id the group needs (kept, inclusive). */
  from: string;
  /** What the stream could be trimmed to without that group (exclusive). */
  to: string;
}

/**
 * The group that holds the trim bound below what every other group and the minimum age allow,
 * with the range kept only for it; undefined when the minimum age holds the bound (or no group
 * is left). Only the lowest group can hold anything back alone: each other one's need is above
 * it. Reuses trimBound so that "what a group needs" means the same as in a trim.
 */
export function holdBack(
  groups: readonly GroupPosition[],
  minAgeMs: number,
  now: number,
): HoldBackRange | undefined {
  const bound = trimBound(groups, minAgeMs, now);
  if (!bound || bound.heldBy === 'min-age') return undefined;
  const others = groups.filter((g) => g.name !== bound.heldBy);
  const without = trimBound(others, minAgeMs, now) ?? {
    minId: `${Math.max(0, now - minAgeMs)}-0`,
  };
  if (compareStreamIds(bound.minId, without.minId) >= 0) return undefined;
  return { group: bound.heldBy, from: bound.minId, to: without.minId };
}
