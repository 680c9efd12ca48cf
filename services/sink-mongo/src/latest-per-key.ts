import type { SinkEvent } from '../../../runtime/sink/sink.ts';
import { compareStreamIds } from '../../../runtime/stream-id.ts';

/**
 * The last event of each key, in the order the keys were first seen. `keyOf` says which events
 * share a key (default: the key text).
 *
 * Events of one key live in one partition stream, where ids only grow, so "last" is "highest id";
 * comparing ids instead of trusting the position also keeps the result right when one call holds
 * several batches. Only the last event matters because every event carries the whole record (an
 * upsert) or none (a delete): the final state of a key does not depend on the events before it.
 */
export function latestPerKey(
  events: Iterable<SinkEvent>,
  keyOf: (event: SinkEvent) => string = (event) => event.key,
): SinkEvent[] {
  const latest = new Map<string, SinkEvent>();
  for (const event of events) {
    const key = keyOf(event);
    const seen = latest.get(key);
    if (seen === undefined || compareStreamIds(event.id, seen.id) > 0) latest.set(key, event);
  }
  return [...latest.values()];
}
