import { Redis } from 'ioredis';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { TimedSink } from '../support/timed-sink.ts';
import type { Backlog } from './backlog.ts';
import { countCommands } from './command-counter.ts';
import type { DrainResult } from './drain-result.ts';
import { BLOCK_MS } from './postgres-service.ts';
import type { WatermarkTracker } from './watermark-tracker.ts';

/** The in-process runner's figures, per apply call where it says so. */
export interface BreakdownResult extends DrainResult {
  applies: number;
  eventsPerApply: number;
  /** Share of the drain spent in sink.apply (PostgreSQL: lock offsets, upsert, offsets, commit). */
  applyShare: number;
  /** Per apply call: Redis commands sent on the runner's main connection, by name. */
  commandsPerApply: Record<string, number>;
  /**
   * Per apply call: ms from sending those commands to their replies, by name. Acknowledgements
   * are not waited for (the next batch applies meanwhile), so these overlap other work.
   */
  commandMsPerApply: Record<string, number>;
  /** Per apply call: ms of the drain outside apply (waiting for the next read, planning). */
  otherMsPerApply: number;
}

/**
 * SinkRunner + PostgresSink in this process, with a timing wrapper around the sink and a counter
 * on the runner's Redis connection: where a batch's time goes. Timed from `start()` resolving to
 * the announcement that the backlog's last ids are applied.
 */
export async function inProcessDrain(
  redisUrl: string,
  postgresUrl: string,
  prefix: string,
  sinkName: string,
  pgSchema: string,
  batchSize: number,
  tracker: WatermarkTracker,
  backlog: Backlog,
  events: number,
): Promise<BreakdownResult> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const counter = countCommands(redis);
  const sink = new TimedSink(
    new PostgresSink({ url: postgresUrl, schema: pgSchema, name: sinkName }),
  );
  const runner = new SinkRunner({
    sink,
    redis,
    prefix,
    consumer: `${sinkName}-bench`,
    batchSize,
    blockMs: BLOCK_MS,
  });
  try {
    const done = tracker.until(sinkName, backlog.lastIds);
    done.catch(() => undefined);
    await runner.start();
    counter.reset();
    sink.applyMs = 0;
    sink.applies = 0;
    sink.events = 0;
    const cpu = process.cpuUsage();
    const startedAt = Date.now();
    const finishedAt = await done;
    const used = process.cpuUsage(cpu);
    const ms = finishedAt - startedAt;
    const per = (n: number) => n / Math.max(1, sink.applies);
    const commandsPerApply: Record<string, number> = {};
    const commandMsPerApply: Record<string, number> = {};
    for (const [name, c] of [...counter.counts].sort((a, b) => b[1].calls - a[1].calls)) {
      commandsPerApply[name] = per(c.calls);
      commandMsPerApply[name] = per(c.ms);
    }
    return {
      eventsPerSecond: events / (ms / 1000),
      ms,
      cpuMicrosPerEvent: (used.user + used.system) / events,
      applies: sink.applies,
      eventsPerApply: per(sink.events),
      applyShare: sink.applyMs / ms,
      commandsPerApply,
      commandMsPerApply,
      otherMsPerApply: per(ms - sink.applyMs),
    };
  } finally {
    await runner.stop();
    await redis.quit().catch(() => redis.disconnect());
  }
}
