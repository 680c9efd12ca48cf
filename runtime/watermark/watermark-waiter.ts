import { WriteThroughTimeoutError } from '../errors/write-through-timeout-error.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { compareStreamIds } from '../stream-id.ts';
import { parseWatermarkMessage } from './watermark-message.ts';

interface Waiter {
  entity: string;
  partition: number;
  id: string;
  pending: Set<string>;
  resolve: () => void;
}

/** Options of a WatermarkWaiter. */
export interface WatermarkWaiterOptions {
  /** How often pending waits re-read the watermark keys, in ms. Default 500. */
  pollIntervalMs?: number;
}

/**
 * Write-through side of the watermark contract (see watermark-message.ts): resolves when every
 * required sink has applied an event. One subscriber connection serves all waits.
 */
export class WatermarkWaiter {
  private readonly waiters = new Set<Waiter>();
  private subscribed: Promise<unknown> | undefined;
  private poller: NodeJS.Timeout | undefined;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly keys: Keys,
    options: WatermarkWaiterOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.subscriber.on('message', (_channel: string, text: string) => {
      const message = parseWatermarkMessage(text);
      if (!message) return;
      for (const waiter of this.waiters) {
        if (
          waiter.entity === message.entity &&
          waiter.partition === message.partition &&
          waiter.pending.has(message.sink) &&
          compareStreamIds(message.id, waiter.id) >= 0
        ) {
          waiter.pending.delete(message.sink);
          if (waiter.pending.size === 0) waiter.resolve();
        }
      }
    });
  }

  /**
   * Waits until every sink in `sinks` has applied event `id` of the partition. Rejects with
   * WriteThroughTimeoutError after `timeoutMs`; the event stays in the log either way.
   */
  async wait(
    entity: string,
    partition: number,
    id: string,
    sinks: readonly string[],
    timeoutMs: number,
  ): Promise<void> {
    if (sinks.length === 0) return;
    this.subscribed ??= this.subscriber.subscribe(this.keys.appliedChannel());
    await this.subscribed;
    let waiter: Waiter | undefined;
    const done = new Promise<void>((resolve) => {
      waiter = { entity, partition, id, pending: new Set(sinks), resolve };
    });
    const registered = waiter!;
    this.waiters.add(registered);
    this.ensurePoller();
    let timer: NodeJS.Timeout | undefined;
    try {
      // Subscribed before this read: an advance after it arrives as a message.
      await this.poll(registered);
      if (registered.pending.size === 0) return;
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new WriteThroughTimeoutError(id, [...registered.pending].sort(), timeoutMs)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(registered);
      if (this.waiters.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
      }
    }
  }

  private ensurePoller(): void {
    if (this.poller) return;
    this.poller = setInterval(() => {
      for (const waiter of this.waiters) void this.poll(waiter).catch(() => undefined);
    }, this.pollIntervalMs);
    this.poller.unref();
  }

  private async poll(waiter: Waiter): Promise<void> {
    const sinks = [...waiter.pending];
    if (sinks.length === 0) return;
    // All watermark keys of one partition share a hash slot, so one MGET reads them.
    const values = await this.redis.mget(
      sinks.map((s) => this.keys.watermark(waiter.entity, waiter.partition, s)),
    );
    sinks.forEach((sink, i) => {
      const applied = values[i];
      if (applied && compareStreamIds(applied, waiter.id) >= 0) waiter.pending.delete(sink);
    });
    if (waiter.pending.size === 0) waiter.resolve();
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }
}
