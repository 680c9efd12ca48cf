import { compareStreamIds } from '../stream-id.ts';

/** What one consumer group of a partition stream still needs, as XINFO and XPENDING tell. */
export interface GroupPosition {
  name: string;
  /** The group's last-delivered id. */
  lastDelivered: string;
  /** Its lowest pending (delivered, not acknowledged) id, if any. */
  lowestPending?: string;
  /** The sink's applied watermark, for groups that are sinks and have announced one. */
  applied?: string;
  /** Where a replay asked of the sink and not carried out yet starts reading again. */
  replayFrom?: string;
}

/** Where a partition stream may be trimmed to, and what decided it. */
export interface TrimBound {
  /** XTRIM MINID: entries below it may go, it and everything after it stay. */
  minId: string;
  /** What holds the bound there: a group's name, or `min-age`. */
  heldBy: string;
}

/**
 * The lowest id anything still needs: for every group its lowest pending entry (delivered, not
 * acknowledged: a crash would have it read again), else its last-delivered entry, and never above
 * a sink's applied watermark (a sink acknowledges only what it committed, but the watermark is
 * what write-through callers and `cdc lag` trust), nor above where a requested replay starts;
 * and never newer than `minAgeMs` before `now`,
 * so a replay from an older backup of a target still finds its entries. Ids are kept inclusive:
 * the entry at the bound itself stays, one more than needed at most. Undefined without groups:
 * with no consumer at all, nothing says what is safe to drop.
 */
export function trimBound(
  groups: readonly GroupPosition[],
  minAgeMs: number,
  now: number,
): TrimBound | undefined {
  if (groups.length === 0) return undefined;
  let bound: TrimBound = { minId: `${Math.max(0, now - minAgeMs)}-0`, heldBy: 'min-age' };
  for (const group of groups) {
    for (const id of [
      group.lowestPending ?? group.lastDelivered,
      group.applied,
      group.replayFrom,
    ]) {
      if (id !== undefined && compareStreamIds(id, bound.minId) < 0)
        bound = { minId: id, heldBy: group.name };
    }
  }
  return bound;
}
