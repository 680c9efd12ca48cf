import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';

/**
 * Who trims a partition stream by itself: the first of the instances owning the partition (one
 * per sink) to take `Keys.retentionLease` with SET NX PX, renewed while it keeps trimming, so
 * that N sinks do not all trim the same stream. Renewal is a GET then a PEXPIRE, not atomic:
 * in the rare race where the lease expires between the two, two instances may trim at once for
 * one round, which is harmless (each trims only below its own safe bound; XTRIM is idempotent).
 */
export class RetentionLease {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** This instance, e.g. `<sink>/<consumer>`. */
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; true when this instance holds it. */
  async hold(entity: string, partition: number): Promise<boolean> {
    const key = this.keys.retentionLease(entity, partition);
    if ((await this.redis.set(key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK') return true;
    if ((await this.redis.get(key)) !== this.holder) return false;
    await this.redis.pexpire(key, this.ttlMs);
    return true;
  }

  /** Hands the lease back (at stop, or when the partition went), if this instance holds it. */
  async release(entity: string, partition: number): Promise<void> {
    const key = this.keys.retentionLease(entity, partition);
    if ((await this.redis.get(key)) === this.holder) await this.redis.del(key);
  }
}
