import { Redis } from 'ioredis';
import type { Capture } from '../../runtime/capture/capture.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import type { WatermarkMessage } from '../../runtime/watermark/watermark-message.ts';
import { ENTITY } from './backlog.ts';

/** Longest a drain may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 180_000;

/**
 * Follows the applied watermarks announced on one prefix's channel. `until` resolves with the
 * time every listed partition of a sink reached its target id; a slow poll of the watermark keys
 * backs the subscription up, so a lost announcement only costs precision, never the run.
 */
export class WatermarkTracker {
  private readonly marks = new Map<string, string>();
  private readonly listeners = new Set<(message: WatermarkMessage, at: number) => void>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly redis: Redis,
    private readonly capture: Capture,
  ) {}

  static async open(url: string, redis: Redis, capture: Capture): Promise<WatermarkTracker> {
    const subscriber = new Redis(url, { lazyConnect: true });
    await subscriber.connect();
    const tracker = new WatermarkTracker(subscriber, redis, capture);
    subscriber.on('message', (_channel: string, text: string) => {
      const at = Date.now();
      const message = JSON.parse(text) as WatermarkMessage;
      const key = `${message.sink}/${message.partition}`;
      const seen = tracker.marks.get(key);
      if (seen === undefined || compareStreamIds(message.id, seen) > 0)
        tracker.marks.set(key, message.id);
      for (const listener of tracker.listeners) listener(message, at);
    });
    await subscriber.subscribe(capture.keys.appliedChannel());
    return tracker;
  }

  on(listener: (message: WatermarkMessage, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private reached(sink: string, targets: ReadonlyMap<number, string>): boolean {
    for (const [p, id] of targets) {
      const mark = this.marks.get(`${sink}/${p}`);
      if (mark === undefined || compareStreamIds(mark, id) < 0) return false;
    }
    return true;
  }

  /** Resolves with Date.now() of the announcement that completed the targets. */
  until(
    sink: string,
    targets: ReadonlyMap<number, string>,
    timeoutMs = DRAIN_TIMEOUT_MS,
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let poller: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | undefined, at = Date.now()) => {
        off();
        clearInterval(poller);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(at);
      };
      const off = this.on((message, at) => {
        if (message.sink === sink && this.reached(sink, targets)) finish(undefined, at);
      });
      if (this.reached(sink, targets)) return finish(undefined);
      poller = setInterval(() => {
        void this.poll(sink, targets).then(
          () => {
            if (this.reached(sink, targets)) finish(undefined);
          },
          () => undefined,
        );
      }, 1000).unref();
      timer = setTimeout(
        () => finish(new Error(`sink ${sink} did not reach the last ids within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref();
    });
  }

  private async poll(sink: string, targets: ReadonlyMap<number, string>): Promise<void> {
    for (const p of targets.keys()) {
      const mark = await this.redis.get(this.capture.keys.watermark(ENTITY, p, sink));
      const seen = this.marks.get(`${sink}/${p}`);
      if (mark && (seen === undefined || compareStreamIds(mark, seen) > 0))
        this.marks.set(`${sink}/${p}`, mark);
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
