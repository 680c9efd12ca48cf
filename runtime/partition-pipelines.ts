import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client.ts';

/**
 * Pipelines for commands grouped by partition, sent together. On one server every partition
 * shares one pipeline (one round trip); on a Redis Cluster each partition gets its own, since a
 * cluster pipeline must keep to one node and a partition's keys share one slot (its hash tag),
 * and the pipelines go out side by side.
 */
export class PartitionPipelines {
  private readonly shared: ChainableCommander | undefined;
  private readonly perPartition = new Map<string, ChainableCommander>();

  constructor(private readonly redis: RedisClient) {
    this.shared = redis.isCluster ? undefined : redis.pipeline();
  }

  /** The pipeline for the commands of one partition (`entity/partition`, or any slot's name). */
  of(partition: string): ChainableCommander {
    if (this.shared) return this.shared;
    let pipeline = this.perPartition.get(partition);
    if (!pipeline) {
      pipeline = this.redis.pipeline();
      this.perPartition.set(partition, pipeline);
    }
    return pipeline;
  }

  /**
   * Sends every pipeline; resolves with each command's outcome, pipeline after pipeline in the
   * order they were first asked for. A pipeline that failed as a whole (its node unreachable)
   * rejects.
   */
  async exec(): Promise<Array<[Error | null, unknown]>> {
    const pipelines = this.shared ? [this.shared] : [...this.perPartition.values()];
    const results = await Promise.all(pipelines.map((p) => p.exec()));
    return results.flatMap((r) => r ?? []);
  }
}
