import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { compareStreamIds, streamIdNumbers, ZERO_ID } from '../stream-id.ts';
import { holdBack } from './held-back.ts';
import type { LogExtent, RetentionPolicy } from './retention-policy.ts';
import { type RetentionSkip, RetentionSkips } from './retention-skips.ts';
import { StreamRetention } from './stream-retention.ts';
import type { GroupPosition } from './trim-bound.ts';

/**
 * Held-back entries are counted by paging through them (Redis has no count by range); beyond
 * this many (or the policy's entry limit, if higher) the count stops: the gauge then says "at
 * least", and the age says how far behind the group is.
 */
const COUNT_CAP = 10_000;

/** Log kept only because one group still needs it. */
export interface HeldBack {
  group: string;
  /** The lowest id the group needs. */
  from: string;
  /** Where the stream could be trimmed to without it. */
  to: string;
  /** Entries in [from, to), counted up to a cap (then `capped`). */
  entries: number;
  capped: boolean;
  /** From the oldest entry kept for it to `to`, ms. */
  ageMs: number;
  /** Past the policy's maxHoldBack. */
  overLimit: boolean;
}

/** What one retention pass over a partition did. */
export interface RetentionPassResult {
  entity: string;
  partition: number;
  /** Entries removed. */
  trimmed: number;
  /** Undefined when nothing could be decided (no consumer group on the stream). */
  minId?: string;
  /** Groups holding retention back, lowest first (more than one only when trimmed past). */
  heldBack: HeldBack[];
  /** Groups trimmed past, with what each lost in this pass. */
  skipped: Array<{ group: string; skip: RetentionSkip }>;
}

/**
 * Applies an entity's retention policy to one partition stream: the safe bound of `cdc trim`
 * (StreamRetention: every group's need, every sink's applied watermark, replays asked for, the
 * minimum age, checked again just before trimming), lowered by `keepExtra`; the group that
 * holds it back measured against `maxHoldBack`; and, with `onHoldBack: "trim"`, that group
 * trimmed past down to the limit, its lost range recorded (RetentionSkips).
 */
export class RetentionEnforcer {
  private readonly retention: StreamRetention;
  private readonly skips: RetentionSkips;

  constructor(
    private readonly redis: RedisClient,
    keys: Keys,
  ) {
    this.retention = new StreamRetention(redis, keys);
    this.skips = new RetentionSkips(redis, keys);
  }

  async enforce(
    entity: string,
    partition: number,
    policy: RetentionPolicy,
    now = Date.now(),
  ): Promise<RetentionPassResult> {
    const result: RetentionPassResult = {
      entity,
      partition,
      trimmed: 0,
      heldBack: [],
      skipped: [],
    };
    const plan = await this.retention.plan(entity, partition, policy.minAgeMs, now, {
      count: false,
    });
    if (!plan.bound) return result;
    let cut = plan.bound.minId;
    let remaining: readonly GroupPosition[] = plan.groups;
    const past: HeldBack[] = [];
    for (;;) {
      const range = holdBack(remaining, policy.minAgeMs, now);
      if (!range) break;
      const held = await this.measure(plan.stream, range, policy.maxHoldBack);
      result.heldBack.push(held);
      if (!held.overLimit || policy.onHoldBack !== 'trim') break;
      // Trimmed past: it keeps only the limit's worth below what the others need. The next
      // group may hold back past the limit too, so look again without this one.
      past.push(held);
      cut = await this.limitBelow(plan.stream, range.to, policy.maxHoldBack);
      remaining = remaining.filter((g) => g.name !== range.group);
    }
    cut = await this.lowerBy(plan.stream, cut, policy.keepExtra);
    const minId = await this.retention.recheck(
      plan,
      cut,
      past.map((h) => h.group),
    );
    if (!minId) return result;
    result.minId = minId;
    for (const held of past) {
      // What it had not applied and goes now: its pending entries, and those after its
      // position (the entry at its position itself it has applied, unless pending).
      if (compareStreamIds(held.from, minId) >= 0) continue;
      const group = plan.groups.find((g) => g.name === held.group);
      const start = group?.lowestPending === held.from ? held.from : `(${held.from}`;
      const [first] = await this.redis.xrange(plan.stream, start, `(${minId}`, 'COUNT', 1);
      if (!first) continue;
      const entries = await countUpTo(this.redis, plan.stream, first[0], `(${minId}`, Infinity);
      const skip = await this.skips.record(held.group, entity, partition, {
        from: first[0],
        to: minId,
        entries,
        at: now,
      });
      result.skipped.push({ group: held.group, skip: { ...skip, entries } });
    }
    result.trimmed = await this.retention.trimBelow(plan.stream, minId);
    return result;
  }

  private async measure(
    stream: string,
    range: { group: string; from: string; to: string },
    limit: LogExtent,
  ): Promise<HeldBack> {
    const cap = 'entries' in limit ? Math.max(COUNT_CAP, limit.entries + 1) : COUNT_CAP;
    const entries = await countUpTo(this.redis, stream, range.from, `(${range.to}`, cap);
    const [oldest] =
      entries > 0 ? await this.redis.xrange(stream, range.from, '+', 'COUNT', 1) : [];
    const ageMs = oldest ? Math.max(0, msOf(range.to) - msOf(oldest[0])) : 0;
    return {
      ...range,
      entries,
      capped: entries >= cap,
      ageMs,
      overLimit: 'entries' in limit ? entries > limit.entries : ageMs > limit.ms,
    };
  }

  /** The bound that leaves `limit` of log below `to`. */
  private async limitBelow(stream: string, to: string, limit: LogExtent): Promise<string> {
    if ('ms' in limit) return `${Math.max(0, msOf(to) - limit.ms)}-0`;
    if (limit.entries === 0) return to;
    const kept = await this.redis.xrevrange(stream, `(${to}`, '-', 'COUNT', limit.entries);
    return kept.at(-1)?.[0] ?? to;
  }

  /** `keepExtra`: the bound moved down by that many entries, or that much time. */
  private async lowerBy(stream: string, minId: string, extra: LogExtent): Promise<string> {
    if ('ms' in extra) {
      if (extra.ms === 0) return minId;
      const lowered = `${Math.max(0, msOf(minId) - extra.ms)}-0`;
      return compareStreamIds(lowered, minId) < 0 ? lowered : minId;
    }
    // Nothing is below the first possible id (and Redis refuses "(0-0" as an end).
    if (extra.entries === 0 || minId === ZERO_ID) return minId;
    const kept = await this.redis.xrevrange(stream, `(${minId}`, '-', 'COUNT', extra.entries);
    // Fewer entries below than asked to keep: keep them all.
    return kept.length < extra.entries ? '0-0' : kept.at(-1)![0];
  }
}

function msOf(id: string): number {
  return streamIdNumbers(id)?.[0] ?? Number.MAX_SAFE_INTEGER;
}

/** Entries between start and end (XRANGE terms), counted page by page up to `cap`. */
async function countUpTo(
  redis: RedisClient,
  stream: string,
  start: string,
  end: string,
  cap: number,
): Promise<number> {
  const PAGE = 1000;
  let count = 0;
  let from = start;
  while (count < cap) {
    const asked = Math.min(PAGE, cap - count);
    const page = await redis.xrange(stream, from, end, 'COUNT', asked);
    count += page.length;
    if (page.length < asked) break;
    from = `(${page.at(-1)![0]}`;
  }
  return count;
}
