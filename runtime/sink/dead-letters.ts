import { type CdcRedis, defineCommands } from '../commands/index.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';

/** Why an entry is in the dead letters. */
export type DeadLetterKind = 'failed' | 'held';

/** A dead-letter entry as read back. */
export interface DeadLetter {
  /** Id in the dead-letter stream. */
  id: string;
  kind: DeadLetterKind;
  entity: string;
  partition: number;
  key: string;
  /** Id of the original entry in its partition stream. */
  sourceId: string;
  error: string;
  failedAt: number;
  /** The original entry's fields, unchanged (payload bytes included). */
  fields: Buffer[];
}

/** State of a quarantined key, stored in the partition's quarantine hash. */
export interface QuarantineState {
  /** Dead-letter id of the event that failed. */
  head: string;
  /** An operator's request, carried out by the instance that owns the partition. */
  request?: 'redrive' | 'skip';
}

/** How long a not-applied mark stays: longer than any write-through waits. */
const NOT_APPLIED_TTL_MS = 3_600_000;

const META = [
  'x-kind',
  'x-entity',
  'x-partition',
  'x-key',
  'x-source-id',
  'x-error',
  'x-failed-at',
] as const;

/**
 * Dead letters and quarantine. An event that can never be applied goes to the sink's dead-letter
 * stream with its error and its original fields; its key is quarantined in that partition, and
 * the key's later events are parked behind it (kind `held`) so that the key's order is never
 * broken, while other keys keep flowing. An operator then asks for a re-drive (after fixing the
 * cause) or a skip (drop the failed event, re-drive the held ones); the partition's owner does it
 * between two batches, so it never races the live stream.
 */
export class DeadLetters {
  private readonly redis: CdcRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly sink: string,
  ) {
    this.redis = defineCommands(redis);
  }

  /**
   * Appends an entry and returns its dead-letter id; once per source entry: adding the same
   * source entry again (after a crash before the offset was committed) returns the first id.
   */
  async add(
    kind: DeadLetterKind,
    entity: string,
    partition: number,
    key: string,
    sourceId: string,
    error: string,
    fields: readonly Buffer[],
  ): Promise<string> {
    const id = await this.redis.addDeadLetter(
      this.keys.deadLetters(this.sink),
      this.keys.deadLetterIndex(this.sink),
      `${entity}/${partition}/${sourceId}`,
      'x-kind',
      kind,
      'x-entity',
      entity,
      'x-partition',
      String(partition),
      'x-key',
      key,
      'x-source-id',
      sourceId,
      'x-error',
      error,
      'x-failed-at',
      String(Date.now()),
      ...fields,
    );
    // Before the watermark passes the event: a write-through waiting for it must see the failure.
    await this.redis.set(
      this.keys.notApplied(entity, partition, this.sink, sourceId),
      `${kind}: ${error}`.slice(0, 500),
      'PX',
      NOT_APPLIED_TTL_MS,
    );
    return id;
  }

  /** Puts a key in quarantine behind a failed event. */
  async quarantine(entity: string, partition: number, key: string, head: string): Promise<void> {
    const state: QuarantineState = { head };
    await this.redis.hset(
      this.keys.quarantine(entity, partition, this.sink),
      key,
      JSON.stringify(state),
    );
  }

  /** Quarantined keys of a partition with their state. */
  async quarantined(entity: string, partition: number): Promise<Map<string, QuarantineState>> {
    const raw = await this.redis.hgetall(this.keys.quarantine(entity, partition, this.sink));
    return new Map(
      Object.entries(raw).map(([key, json]) => [key, JSON.parse(json) as QuarantineState]),
    );
  }

  /** Operator request: re-apply the key's dead letters in order (after fixing the cause). */
  async requestRedrive(entity: string, partition: number, key: string): Promise<boolean> {
    return this.request(entity, partition, key, 'redrive');
  }

  /** Operator request: drop the failed event, then re-apply the key's held events. */
  async requestSkip(entity: string, partition: number, key: string): Promise<boolean> {
    return this.request(entity, partition, key, 'skip');
  }

  private async request(
    entity: string,
    partition: number,
    key: string,
    request: 'redrive' | 'skip',
  ): Promise<boolean> {
    const hash = this.keys.quarantine(entity, partition, this.sink);
    const raw = await this.redis.hget(hash, key);
    if (raw === null) return false;
    const state = JSON.parse(raw) as QuarantineState;
    await this.redis.hset(hash, key, JSON.stringify({ ...state, request }));
    return true;
  }

  /** Releases a key from quarantine. */
  async release(entity: string, partition: number, key: string): Promise<void> {
    await this.redis.hdel(this.keys.quarantine(entity, partition, this.sink), key);
  }

  /** Every dead letter of the sink, oldest first (optionally of one key). */
  async list(filter: { entity?: string; key?: string } = {}): Promise<DeadLetter[]> {
    const entries = await this.redis.xrangeBuffer(this.keys.deadLetters(this.sink), '-', '+');
    const result: DeadLetter[] = [];
    for (const [rawId, raw] of entries) {
      const meta = new Map<string, string>();
      let i = 0;
      while (i < raw.length && META.includes(raw[i]!.toString() as (typeof META)[number])) {
        meta.set(raw[i]!.toString(), raw[i + 1]!.toString());
        i += 2;
      }
      const letter: DeadLetter = {
        id: rawId.toString(),
        kind: meta.get('x-kind') as DeadLetterKind,
        entity: meta.get('x-entity') ?? '',
        partition: Number(meta.get('x-partition')),
        key: meta.get('x-key') ?? '',
        sourceId: meta.get('x-source-id') ?? '',
        error: meta.get('x-error') ?? '',
        failedAt: Number(meta.get('x-failed-at')),
        fields: raw.slice(i),
      };
      if (filter.entity !== undefined && letter.entity !== filter.entity) continue;
      if (filter.key !== undefined && letter.key !== filter.key) continue;
      result.push(letter);
    }
    return result;
  }

  /** Removes dead letters once they were re-applied or skipped. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.removeDeadLetters(
      this.keys.deadLetters(this.sink),
      this.keys.deadLetterIndex(this.sink),
      ...ids,
    );
  }
}
