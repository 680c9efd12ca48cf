import type { ChainableCommander } from 'ioredis';
import { defineCommands } from '../commands/index.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import type { WatermarkMessage } from './watermark-message.ts';

/** Sink side of the contract: advance the watermark (never backward) and announce it. */
export class WatermarkPublisher {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    defineCommands(redis);
  }

  /** Returns true when the watermark moved. */
  async advance(message: WatermarkMessage): Promise<boolean> {
    const moved = await this.redis.advanceWatermark(
      this.keys.watermark(message.entity, message.partition, message.sink),
      message.id,
      this.keys.appliedChannel(),
      JSON.stringify(message),
    );
    return moved === 1;
  }

  /** Adds an advance to a pipeline, for callers that batch it with other commands. */
  queueAdvance(pipeline: ChainableCommander, message: WatermarkMessage): void {
    pipeline.advanceWatermark(
      this.keys.watermark(message.entity, message.partition, message.sink),
      message.id,
      this.keys.appliedChannel(),
      JSON.stringify(message),
    );
  }

  /** The watermark of one sink in one partition, or undefined when it applied nothing yet. */
  async read(entity: string, partition: number, sink: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.watermark(entity, partition, sink))) ?? undefined;
  }
}
