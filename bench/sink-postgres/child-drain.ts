import type { ChildSink } from '../support/child-sink.ts';
import type { Backlog } from './backlog.ts';
import type { DrainResult } from './drain-result.ts';
import { type ServiceOptions, spawnService } from './postgres-service.ts';
import type { WarmUp } from './reads.ts';
import type { WatermarkTracker } from './watermark-tracker.ts';

/** The service's figures: the whole drain's rate too, its start and its memory. */
export interface ChildDrainResult extends DrainResult {
  /** Events/s over the whole drain, warm-up included (from the "sink started" line). */
  wholeEventsPerSecond: number;
  startupMs: number;
  /** VmRSS right after start, before the drain, MB. */
  idleRssMb: number;
  peakRssMb: number;
}

/**
 * The subject: the service as a child process under a sink name of its own, timed from the
 * announcement that its applied watermarks passed the warm-up to the one that they reached the
 * backlog's last ids (and, for the whole drain, from its "sink started" line).
 */
export async function childDrain(
  base: Omit<ServiceOptions, 'sinkName' | 'pgSchema'>,
  sinkName: string,
  pgSchema: string,
  tracker: WatermarkTracker,
  backlog: Backlog,
  events: number,
  warmUp: WarmUp,
  children: Set<ChildSink>,
): Promise<ChildDrainResult> {
  const child = spawnService({ ...base, sinkName, pgSchema });
  children.add(child);
  try {
    const done = tracker.until(sinkName, backlog.lastIds);
    const warm = tracker.until(sinkName, warmUp.ids);
    // Awaited below; until then a failed start must not leave them unhandled rejections.
    done.catch(() => undefined);
    warm.catch(() => undefined);
    const startedAt = await child.started;
    const idle = await child.sample();
    const warmAt = warmUp.events > 0 ? await warm : startedAt;
    const before = warmUp.events > 0 ? await child.sample() : idle;
    const finishedAt = await done;
    const after = await child.stop();
    const ms = finishedAt - warmAt;
    const timed = events - warmUp.events;
    return {
      eventsPerSecond: timed / (ms / 1000),
      wholeEventsPerSecond: events / ((finishedAt - startedAt) / 1000),
      ms,
      // Includes the CPU of the few ms between the finish and the sample: negligible.
      cpuMicrosPerEvent: after ? ((after.cpuMs - before.cpuMs) * 1000) / timed : Number.NaN,
      startupMs: await child.startupMs(),
      idleRssMb: idle.rssMb,
      peakRssMb: after?.peakRssMb ?? Number.NaN,
    };
  } finally {
    await child.stop().catch(() => undefined);
    children.delete(child);
  }
}
