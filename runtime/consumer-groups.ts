import type { RedisClient } from './redis-client.ts';
import { isNoSuchKey } from './redis-errors.ts';

/** One consumer group of a stream, as XINFO GROUPS reports it. */
export interface ConsumerGroupInfo {
  name: string;
  /** The id of the last entry delivered to the group. */
  lastDelivered: string;
  /** Entries delivered to it and not acknowledged. */
  pending: number;
  /**
   * Entries not delivered to it yet; undefined when Redis cannot tell (a group moved with XGROUP
   * SETID without ENTRIESREAD, until it reaches the end of the stream).
   */
  lag: number | undefined;
}

/**
 * The consumer groups of a stream; none when the stream does not exist. XINFO GROUPS answers
 * each group as a flat list of field names and values.
 */
export async function consumerGroups(
  redis: RedisClient,
  stream: string,
): Promise<ConsumerGroupInfo[]> {
  let raw: Array<Array<string | number | null>>;
  try {
    raw = (await redis.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>;
  } catch (err) {
    // No stream yet: nothing was ever written and no sink created its group yet.
    if (isNoSuchKey(err)) return [];
    throw err;
  }
  return raw.map(parseGroupFields);
}

/** One group's fields as XINFO GROUPS lists them. */
export function parseGroupFields(fields: ReadonlyArray<string | number | null>): ConsumerGroupInfo {
  const field = (name: string) => {
    const at = fields.indexOf(name);
    return at < 0 ? null : fields[at + 1];
  };
  const lag = field('lag');
  return {
    name: String(field('name')),
    lastDelivered: String(field('last-delivered-id')),
    pending: Number(field('pending') ?? 0),
    lag: lag === null || lag === undefined ? undefined : Number(lag),
  };
}
