import type { Redis } from 'ioredis';
import { parseWatermarkMessage } from '../../runtime/watermark/watermark-message.ts';
import { percentile } from '../support/numbers.ts';

/** How the sink's announcements went over one step, ms (p50 / p99 over the announcements). */
export interface AnnouncementStats {
  announcements: number;
  /** Age of a batch's newest event when its announcement arrived: the least any of them waited. */
  newestAge: [number, number];
  /**
   * Time from the partition's previous announced id to this announcement: about what the batch's
   * oldest event waited (it came just after that id).
   */
  oldestAge: [number, number];
  /** Time between two announcements of one partition: the sink's cycle as write-through sees it. */
  cycle: [number, number];
}

/**
 * Listens to the applied-watermark announcements of one prefix (as a write-through waiter does)
 * and times them against the ids they announce, whose first part is the capture time in ms: it
 * splits a write-through's wait into the sink's cycle and what came after the announcement.
 */
export class AnnouncementMonitor {
  private newest: number[] = [];
  private oldest: number[] = [];
  private cycles: number[] = [];
  private readonly last = new Map<string, { id: number; at: number }>();
  private counting = false;

  private constructor(private readonly subscriber: Redis) {
    subscriber.on('message', (_channel: string, text: string) => {
      const message = parseWatermarkMessage(text);
      if (!message || !this.counting) return;
      const now = Date.now();
      const idMs = Number(message.id.slice(0, message.id.indexOf('-')));
      const partition = `${message.entity}\u0000${message.partition}\u0000${message.sink}`;
      const previous = this.last.get(partition);
      this.last.set(partition, { id: idMs, at: now });
      this.newest.push(now - idMs);
      if (previous) {
        this.oldest.push(now - previous.id);
        this.cycles.push(now - previous.at);
      }
    });
  }

  /** Subscribes a connection of its own to `channel`. */
  static async start(redis: Redis, channel: string): Promise<AnnouncementMonitor> {
    const subscriber = redis.duplicate();
    await subscriber.subscribe(channel);
    return new AnnouncementMonitor(subscriber);
  }

  /** Forgets what came before: a step starts. */
  begin(): void {
    this.newest = [];
    this.oldest = [];
    this.cycles = [];
    this.last.clear();
    this.counting = true;
  }

  /** What was seen since `begin`. */
  end(): AnnouncementStats {
    this.counting = false;
    const both = (values: number[]): [number, number] => {
      const sorted = Float64Array.from(values).sort();
      return [percentile(sorted, 50), percentile(sorted, 99)];
    };
    return {
      announcements: this.newest.length,
      newestAge: both(this.newest),
      oldestAge: both(this.oldest),
      cycle: both(this.cycles),
    };
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
