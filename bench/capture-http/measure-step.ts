import { loadavg } from 'node:os';
import type { AnnouncementMonitor, AnnouncementStats } from './announcement-monitor.ts';
import type { BenchRun } from './bench-run.ts';
import { meanBetween, scrapeCapture } from './capture-metrics-scrape.ts';
import type { StepResult } from './load-step.ts';
import type { Subject } from './subjects.ts';

/** Seed of every step's key sequence: every subject gets the same keys at a given rate. */
const SEED = 20_240_601;

/** A step's generator figures, with what the subject's process and Redis spent on it. */
export interface MeasuredStep extends StepResult {
  subject: string;
  /** Write mode header sent, if any. */
  mode: 'behind' | 'through' | undefined;
  /** CPU time (user + system) of the subject's process per answered request, µs. */
  serviceCpuMicros: number;
  /** CPU time of the Redis server per answered request, µs (all its clients: approximate). */
  redisCpuMicros: number;
  /** Capture's own mean time of the cache-and-log write, ms (NaN for the bare route). */
  writeMs: number;
  /** Capture's mean writes per script call (group commit; NaN for the bare route). */
  writesPerCall: number;
  /** Capture's mean wait of a write-through for the sinks, ms (NaN without write-through). */
  throughWaitMs: number;
  /** 1-minute load average when the step ended. */
  load1: number;
  /** The sink's announcements during the step, when a monitor listened. */
  announcements?: AnnouncementStats;
}

/** Whether a step counts as sustained: every request answered 2xx and p99 under the limit. */
export function sustained(step: StepResult, p99LimitMs: number): boolean {
  return step.errors === 0 && step.dropped === 0 && step.p99 < p99LimitMs;
}

/**
 * Runs one step of open-loop load against `subject` at `rate`; `seconds` defaults to the run's.
 * With `monitor`, the sink's announcements during the step are timed as well.
 */
export async function measureStep(
  run: BenchRun,
  subject: Subject,
  rate: number,
  mode?: 'behind' | 'through',
  seconds = run.options.seconds,
  monitor?: AnnouncementMonitor,
): Promise<MeasuredStep> {
  const generator = run.generator;
  if (!generator) throw new Error('the load generator is not running');
  const serviceBefore = await subject.service.sample();
  const redisBefore = await run.redisCpuMicros();
  const metricsBefore = await scrapeCapture(subject.service.origin);
  monitor?.begin();
  const result = await generator.run({
    origin: subject.service.origin,
    connections: subject.connections,
    pathPrefix: subject.pathPrefix,
    query: subject.query,
    headers: mode ? { 'x-write-mode': mode } : {},
    rate,
    seconds,
    keys: run.options.keys,
    seed: SEED + rate,
    maxInFlight: run.options.maxInFlight,
  });
  const announcements = monitor?.end();
  const serviceAfter = await subject.service.sample();
  const redisAfter = await run.redisCpuMicros();
  const metricsAfter = await scrapeCapture(subject.service.origin);
  const mean = (pick: (t: NonNullable<typeof metricsAfter>) => { sum: number; count: number }) =>
    metricsBefore && metricsAfter
      ? meanBetween(pick(metricsBefore), pick(metricsAfter))
      : Number.NaN;
  const answered = Math.max(1, result.ok);
  return {
    ...result,
    subject: subject.label,
    mode,
    serviceCpuMicros: ((serviceAfter.cpuMs - serviceBefore.cpuMs) * 1000) / answered,
    redisCpuMicros: (redisAfter - redisBefore) / answered,
    writeMs: mean((t) => t.writeSeconds) * 1000,
    writesPerCall: mean((t) => t.writesPerCall),
    throughWaitMs: mean((t) => t.throughWait) * 1000,
    load1: loadavg()[0]!,
    ...(announcements ? { announcements } : {}),
  };
}
