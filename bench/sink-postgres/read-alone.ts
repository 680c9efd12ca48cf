import type { Redis } from 'ioredis';
import type { Capture } from '../../runtime/capture/capture.ts';
import { streamEntries } from '../../runtime/resp/stream-entries.ts';
import { StreamReadConnection } from '../../runtime/resp/stream-read-connection.ts';
import { ENTITY, PARTITIONS } from './backlog.ts';
import type { DrainResult } from './drain-result.ts';
import { perStream } from './reads.ts';

/**
 * Reading alone: the backlog read through a fresh consumer group as the runner reads it (one
 * XREADGROUP of up to `batchSize` entries over the partition streams, on the runner's kind of
 * read connection, split into entries), nothing else done.
 */
export async function readAlone(
  redis: Redis,
  capture: Capture,
  group: string,
  batchSize: number,
): Promise<DrainResult> {
  const streams = Array.from({ length: PARTITIONS }, (_, p) => capture.keys.stream(ENTITY, p));
  for (const stream of streams) await redis.xgroup('CREATE', stream, group, '0');
  const reader = StreamReadConnection.like(redis);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let events = 0;
  for (;;) {
    const reply = streamEntries(
      await reader.command(
        [
          'XREADGROUP',
          'GROUP',
          group,
          'bench',
          'COUNT',
          perStream(batchSize),
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        ],
        30_000,
      ),
    );
    const read = reply.reduce((n, { ids }) => n + ids.length, 0);
    if (read === 0) break;
    events += read;
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  reader.close();
  return {
    eventsPerSecond: events / (elapsed / 1000),
    ms: elapsed,
    cpuMicrosPerEvent: (used.user + used.system) / events,
  };
}
