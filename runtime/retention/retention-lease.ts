import { defineCommands } from '../commands/index.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';

/**
 * Who trims a partition stream by itself: the first of the instances owning the partition (one
 * per sink) to take `Keys.retentionLease` with SET NX PX, renewed while it keeps trimming, so
 * that N sinks do not all trim the same stream. Renewal and release check the holder in the
 * same step as they extend or delete (the partition leases' scripts), so a lease that expired
 * and went to another instance in between is never extended or deleted for it.
 */
export class RetentionLease {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** This instance, e.g. `<sink>/<consumer>`. */
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {
    defineCommands(redis);
  }

  /** Takes or renews the lease; true when this instance holds it. */
  async hold(entity: string, partition: number): Promise<boolean> {
    const key = this.keys.retentionLease(entity, partition);
    if ((await this.redis.set(key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK') return true;
    return (await this.redis.renewLease(key, this.holder, this.ttlMs)) === 1;
  }

  /** Hands the lease back (at stop, or when the partition went), if this instance holds it. */
  async release(entity: string, partition: number): Promise<void> {
    const key = this.keys.retentionLease(entity, partition);
    await this.redis.releaseLease(key, this.holder);
  }
}
