import { median } from '../support/numbers.ts';
import type { DrainRounds } from './drain-rounds.ts';
import type { FreshnessResult } from './freshness.ts';
import type { BenchOptions } from './options.ts';

/** The targets: drain rate at least this fraction of the raw upsert rate, RSS below. */
export const TARGET_RATIO = 0.9;
export const TARGET_RSS_MB = 200;

/** One batch size's figures: medians over the rounds, and each round's where it says so. */
export type SizeSummary = ReturnType<typeof summarizeSize>;

/** The figures of every batch size, in the order of `--batch-sizes`. */
export function summarize(
  options: BenchOptions,
  drains: DrainRounds,
  fresh: readonly FreshnessResult[],
): SizeSummary[] {
  return options.batchSizes.map((size) => summarizeSize(size, drains, fresh));
}

function summarizeSize(size: number, drains: DrainRounds, fresh: readonly FreshnessResult[]) {
  const { child, raw, ratios, wholeRatios, inProcess, direct, reads } = drains;
  const c = child.get(size)!;
  const r = raw.get(size)!;
  const f = fresh.find((x) => x.batchSize === size)!;
  const peakRssMb = Math.max(...c.map((x) => x.peakRssMb), f.peakRssMb);
  const ratio = median(ratios.get(size)!);
  const b = inProcess.get(size)!;
  const d = direct.get(size)!;
  const rd = reads.get(size)!;
  return {
    batchSize: size,
    service: {
      eventsPerSecond: median(c.map((x) => x.eventsPerSecond)),
      cpuMicrosPerEvent: median(c.map((x) => x.cpuMicrosPerEvent)),
      startupMs: median(c.map((x) => x.startupMs)),
      idleRssMb: median(c.map((x) => x.idleRssMb)),
      peakRssMb,
      rounds: c.map((x) => Math.round(x.eventsPerSecond)),
    },
    raw: {
      eventsPerSecond: median(r.map((x) => x.eventsPerSecond)),
      cpuMicrosPerEvent: median(r.map((x) => x.cpuMicrosPerEvent)),
      transactions: r[0]?.transactions ?? 0,
      rows: r[0]?.rows ?? 0,
      rounds: r.map((x) => Math.round(x.eventsPerSecond)),
    },
    ratio,
    ratios: ratios.get(size)!.map((x) => Number(x.toFixed(3))),
    /** Service / raw over the whole drains, warm-up included. */
    wholeRatio: median(wholeRatios.get(size)!),
    wholeRates: {
      service: median(c.map((x) => x.wholeEventsPerSecond)),
      raw: median(r.map((x) => x.wholeEventsPerSecond)),
    },
    freshness: {
      p50: f.p50,
      p99: f.p99,
      max: f.max,
      appendP50: f.appendP50,
      appendP99: f.appendP99,
      events: f.events,
      writtenPerSecond: Math.round(f.writtenPerSecond),
    },
    applyAlone:
      d.length > 0
        ? {
            eventsPerSecond: median(d.map((x) => x.eventsPerSecond)),
            cpuMicrosPerEvent: median(d.map((x) => x.cpuMicrosPerEvent)),
            rounds: d.map((x) => Math.round(x.eventsPerSecond)),
          }
        : undefined,
    readAlone:
      rd.length > 0
        ? {
            eventsPerSecond: median(rd.map((x) => x.eventsPerSecond)),
            cpuMicrosPerEvent: median(rd.map((x) => x.cpuMicrosPerEvent)),
            rounds: rd.map((x) => Math.round(x.eventsPerSecond)),
          }
        : undefined,
    inProcess:
      b.length > 0
        ? {
            eventsPerSecond: median(b.map((x) => x.eventsPerSecond)),
            cpuMicrosPerEvent: median(b.map((x) => x.cpuMicrosPerEvent)),
            applies: median(b.map((x) => x.applies)),
            eventsPerApply: median(b.map((x) => x.eventsPerApply)),
            applyShare: median(b.map((x) => x.applyShare)),
            otherMsPerApply: median(b.map((x) => x.otherMsPerApply)),
            commandsPerApply: b.at(-1)!.commandsPerApply,
            commandMsPerApply: b.at(-1)!.commandMsPerApply,
            rounds: b.map((x) => Math.round(x.eventsPerSecond)),
          }
        : undefined,
    meetsRatio: ratio >= TARGET_RATIO,
    meetsRss: peakRssMb < TARGET_RSS_MB,
  };
}
