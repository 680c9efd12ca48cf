import type { ConsumerGroupInfo } from '../consumer-groups.ts';
import { compareStreamIds, ZERO_ID } from '../stream-id.ts';

/** What XINFO STREAM says of a stream's history. */
export interface StreamInfo {
  length: number;
  /** Every entry ever added (`entries-added`). */
  entriesAdded: number;
  /** The highest id removed by XDEL (`max-deleted-entry-id`, `0-0` if none; XTRIM leaves it). */
  maxDeletedId: string;
  /** The oldest entry still there, if any. */
  firstId: string | undefined;
  /** The newest id ever added (`last-generated-id`). */
  lastGeneratedId: string;
}

/** A group's position as far as trimming is concerned. */
export interface GroupReadPosition extends ConsumerGroupInfo {
  /** Its lowest pending entry, if any (XPENDING). */
  lowestPending?: string;
  /** Entries it has read since the stream began (`entries-read`), when Redis knows. */
  entriesRead?: number;
}

/**
 * Whether entries a group still needed are gone. Trimming is safe only below what every group
 * still needs, its lowest pending entry or else what follows its last-delivered one (the rule of
 * runtime/retention/trim-bound.ts), and it removes a prefix of the stream, so:
 *
 * - a pending entry below the stream's first entry is gone;
 * - with no entry deleted by hand, `entries-added - length` entries were trimmed: more than the
 *   group's `entries-read` means some it had not read (XINFO's entries-read gap);
 * - when Redis does not know `entries-read`, a last-delivered id below the first entry while
 *   entries were trimmed is taken as a loss: it is one unless the group had read exactly up to
 *   the trim point, which Redis then cannot tell apart;
 * - an XDEL by hand above the position is reported too (`max-deleted-entry-id`).
 */
export function trimmedUnread(group: GroupReadPosition, stream: StreamInfo): boolean {
  const first = stream.firstId;
  if (group.lowestPending !== undefined) {
    if (first !== undefined && compareStreamIds(group.lowestPending, first) < 0) return true;
    if (compareStreamIds(stream.maxDeletedId, group.lowestPending) >= 0) return true;
  } else if (compareStreamIds(stream.maxDeletedId, group.lastDelivered) > 0) {
    return true;
  }
  const deletedByHand = stream.maxDeletedId !== ZERO_ID;
  const trimmed = stream.entriesAdded - stream.length;
  if (trimmed <= 0) return false;
  if (group.entriesRead !== undefined && !deletedByHand) return trimmed > group.entriesRead;
  // The oldest entry left (or, with none left, the newest ever) is above the position.
  return compareStreamIds(group.lastDelivered, first ?? stream.lastGeneratedId) < 0;
}
