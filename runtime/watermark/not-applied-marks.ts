import type { RedisClient } from '../redis-client.ts';

interface Asked {
  readonly keys: readonly string[];
  resolve(values: Array<string | null>): void;
  reject(error: unknown): void;
}

/**
 * Reads the not-applied marks of write-throughs whose wait is over (see watermark-message.ts): the
 * checks asked in one turn of the event loop go in one MGET, on a Redis Cluster one per partition
 * (a partition's keys share a slot). One announcement settles many waits at once, and a sink
 * announces all its partitions together, so each then checks its marks: sent one by one, that was
 * one command and one socket write per write-through, and each write to the socket cost more
 * than the MGET's own work.
 */
export class NotAppliedMarks {
  /** Per MGET to send (a partition's slot on a cluster, else one), the checks asked since the last flush. */
  private readonly asked = new Map<string, Asked[]>();
  private scheduled = false;
  /** One server takes any keys in one MGET; a cluster only keys of one slot. */
  private readonly perSlot: boolean;

  constructor(private readonly redis: RedisClient) {
    this.perSlot = redis.isCluster;
  }

  /**
   * The values of `keys` (all in the partition tagged `slot`), null where no mark is. Sent after
   * the current turn's other checks were asked.
   */
  read(slot: string, keys: readonly string[]): Promise<Array<string | null>> {
    const group = this.perSlot ? slot : '';
    return new Promise((resolve, reject) => {
      const checks = this.asked.get(group);
      if (checks) checks.push({ keys, resolve, reject });
      else this.asked.set(group, [{ keys, resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After the microtasks of this turn: the waits one announcement settled all ask first.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    for (const checks of this.asked.values()) this.send(checks);
    this.asked.clear();
  }

  private send(checks: readonly Asked[]): void {
    const keys = checks.length === 1 ? checks[0]!.keys : checks.flatMap((check) => check.keys);
    this.redis.mget(keys as string[]).then(
      (values) => {
        let at = 0;
        for (const check of checks) {
          check.resolve(values.slice(at, at + check.keys.length));
          at += check.keys.length;
        }
      },
      (error: unknown) => {
        for (const check of checks) check.reject(error);
      },
    );
  }
}
