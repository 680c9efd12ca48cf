import { WriteThroughTimeoutError } from '../errors/write-through-timeout-error.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { ZERO_ID } from '../stream-id.ts';
import { AppliedView, type PendingWait } from './applied-view.ts';
import { parseWatermarkMessage } from './watermark-message.ts';

/** Options of a WatermarkWaiter. */
export interface WatermarkWaiterOptions {
  /**
   * How often the watermarks that writes wait on are read again, in ms: pub/sub is at-most-once
   * across reconnects, so an announcement may be missed. Default 500.
   */
  pollIntervalMs?: number;
}

/**
 * Write-through side of the watermark contract (see watermark-message.ts): resolves when every
 * required sink has applied an event. One subscription and one view of the watermarks serve
 * every wait of the process: an announcement settles the waits it covers in order of id without
 * looking at the others (AppliedView), a wait whose event is already covered returns without a
 * read, and the reads that remain are one MGET per partition, shared by the waits on it.
 */
export class WatermarkWaiter {
  /** Per `entity/partition/sink`. */
  private readonly views = new Map<string, AppliedView>();
  /** Per `entity/partition`: the sinks waited on there, for the periodic read. */
  private readonly partitions = new Map<
    string,
    { entity: string; partition: number; sinks: Set<string> }
  >();
  /** Per `entity/partition`: a read in flight, shared by the waits that need it. */
  private readonly reads = new Map<string, Promise<void>>();
  private subscribed: Promise<unknown> | undefined;
  private poller: NodeJS.Timeout | undefined;
  private waiting = 0;
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
      this.views.get(viewKey(message.entity, message.partition, message.sink))?.advance(message.id);
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
    // Subscribed before any read: an advance after the read arrives as a message.
    this.subscribed ??= this.subscriber.subscribe(this.keys.appliedChannel());
    await this.subscribed;
    const views = sinks.map((sink) => this.view(entity, partition, sink));
    if (views.every((view) => view.covers(id))) return;

    const pending = new Map<string, PendingWait>();
    let resolve: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    sinks.forEach((sink, i) => {
      const wait: PendingWait = {
        id,
        satisfied: () => {
          pending.delete(sink);
          if (pending.size === 0) resolve();
        },
      };
      pending.set(sink, wait);
      views[i]!.add(wait);
    });
    this.waiting++;
    this.ensurePoller();
    let timer: NodeJS.Timeout | undefined;
    try {
      // A view not read since subscribing knows nothing of the advances before: read it (a read
      // already in flight may not have included it, hence the second turn).
      for (let turn = 0; turn < 2 && views.some((view) => !view.known); turn++) {
        await this.read(entity, partition);
      }
      if (pending.size === 0) return;
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new WriteThroughTimeoutError(id, [...pending.keys()].sort(), timeoutMs)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      for (const [sink, wait] of pending) this.view(entity, partition, sink).remove(wait);
      this.waiting--;
      if (this.waiting === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
      }
    }
  }

  private view(entity: string, partition: number, sink: string): AppliedView {
    const key = viewKey(entity, partition, sink);
    let view = this.views.get(key);
    if (!view) {
      view = new AppliedView();
      this.views.set(key, view);
      const id = `${entity}\u0000${partition}`;
      const known = this.partitions.get(id) ?? { entity, partition, sinks: new Set<string>() };
      known.sinks.add(sink);
      this.partitions.set(id, known);
    }
    return view;
  }

  /** One MGET of the partition's watermarks waited on (they share a slot); shared while in flight. */
  private read(entity: string, partition: number): Promise<void> {
    const id = `${entity}\u0000${partition}`;
    const inFlight = this.reads.get(id);
    if (inFlight) return inFlight;
    const sinks = [...(this.partitions.get(id)?.sinks ?? [])];
    const read = (async () => {
      try {
        if (sinks.length === 0) return;
        const values = await this.redis.mget(
          sinks.map((sink) => this.keys.watermark(entity, partition, sink)),
        );
        // A sink that never applied anything has no key: known, at the start of the stream.
        sinks.forEach((sink, i) => {
          this.view(entity, partition, sink).advance(values[i] ?? ZERO_ID);
        });
      } finally {
        this.reads.delete(id);
      }
    })();
    this.reads.set(id, read);
    return read;
  }

  private ensurePoller(): void {
    if (this.poller) return;
    this.poller = setInterval(() => {
      for (const { entity, partition, sinks } of this.partitions.values()) {
        const waited = [...sinks].some(
          (sink) => (this.views.get(viewKey(entity, partition, sink))?.waiting ?? 0) > 0,
        );
        if (waited) void this.read(entity, partition).catch(() => undefined);
      }
    }, this.pollIntervalMs);
    this.poller.unref();
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }
}

function viewKey(entity: string, partition: number, sink: string): string {
  return `${entity}\u0000${partition}\u0000${sink}`;
}
