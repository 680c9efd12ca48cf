import type { ConsumerGroupInfo } from '../consumer-groups.ts';
import { compareStreamIds } from '../stream-id.ts';

/** What XINFO STREAM says of a stream's history. */
export interface StreamInfo {
  length: number;
  /** Every entry ever added (`entries-added`). */
  entriesAdded: number;
  /** The highest id ever deleted or trimmed (`max-deleted-entry-id`), `0-0` if none. */
  maxDeletedId: string;
  /** The oldest entry still there, if any. */
  firstId: string | undefined;
}

/**
 * Whether entries a group still needed are gone: trimming is safe only below what every group
 * still needs, its lowest pending entry or else what follows its last-delivered one (the rule of
 * runtime/retention/trim-bound.ts). A trim removes a prefix of the stream, so the highest id ever
 * deleted at or above that position means retention (or an XTRIM by hand) removed entries the
 * group had not read. The gap of `entries-read` says the same
 * once Redis knows it: a group that read all but its lag has entries-added minus lag read, and
 * the stream holds fewer than that many entries above its position.
 */
export function trimmedUnread(
  group: ConsumerGroupInfo,
  lowestPending: string | undefined,
  stream: StreamInfo,
): boolean {
  // The lowest pending entry is needed itself, the last delivered one is not.
  const deletedAbove = lowestPending
    ? compareStreamIds(stream.maxDeletedId, lowestPending) >= 0
    : compareStreamIds(stream.maxDeletedId, group.lastDelivered) > 0;
  if (deletedAbove) return true;
  // The lag counts entries added after the last delivered one: more than the stream still holds
  // after it means some were removed before delivery.
  return group.lag !== undefined && stream.length < group.lag;
}
