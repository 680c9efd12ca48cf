import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';

/** The failures of a bridge counted for operators. */
export type BridgeIncident = 'aborted' | 'fenced';

/** How often one kind of failure happened, and when last. */
export interface IncidentCount {
  count: number;
  /** When the last one was counted, ms since the epoch; undefined if none was. */
  lastAt: number | undefined;
}

/**
 * Aborted transactions and fenced producers of a Kafka bridge, counted in Redis (a hash per
 * bridge, summed over its instances, since the key was made). The metrics count them per
 * process and lose them on restart; `cdc lag` runs elsewhere and later, and these failures are
 * rare enough that a write each costs nothing.
 */
export class BridgeIncidents {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Counts one failure, at `at` (ms). */
  async count(sink: string, kind: BridgeIncident, at: number = Date.now()): Promise<void> {
    const key = this.keys.bridgeIncidents(sink);
    await this.redis.multi().hincrby(key, kind, 1).hset(key, `${kind}-at`, String(at)).exec();
  }

  /** Both counts of a bridge (zero when it never failed so). */
  async of(sink: string): Promise<Record<BridgeIncident, IncidentCount>> {
    const fields = await this.redis.hgetall(this.keys.bridgeIncidents(sink));
    const read = (kind: BridgeIncident): IncidentCount => {
      const at = Number(fields[`${kind}-at`] ?? 0);
      return { count: Number(fields[kind] ?? 0), lastAt: at > 0 ? at : undefined };
    };
    return { aborted: read('aborted'), fenced: read('fenced') };
  }
}
