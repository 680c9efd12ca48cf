import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { DeadLetters } from '../sink/dead-letters.ts';

/**
 * Asks a sink to re-drive or skip a quarantined key, as `cdc redrive` and `cdc skip` do: the
 * instance that owns the partition carries it out between two batches. False when the key is not
 * quarantined there.
 */
export function requestQuarantineAction(
  redis: RedisClient,
  keys: Keys,
  request: {
    sink: string;
    entity: string;
    partition: number;
    key: string;
    action: 'redrive' | 'skip';
  },
): Promise<boolean> {
  const letters = new DeadLetters(redis, keys, request.sink);
  return request.action === 'redrive'
    ? letters.requestRedrive(request.entity, request.partition, request.key)
    : letters.requestSkip(request.entity, request.partition, request.key);
}
