import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, fmtRate } from '../support/numbers.ts';
import type { BenchRun } from './bench-run.ts';
import { type MeasuredStep, measureStep, sustained } from './measure-step.ts';
import type { Subject } from './subjects.ts';

/** Pause between steps, so that one step's stragglers and Redis' aftermath do not fall in the next. */
const PAUSE_MS = 1000;

/** One subject's climb up the rates. */
export interface LadderResult {
  subject: string;
  /** The highest rate reached with every step up to it sustained; 0 if the first failed. */
  highestSustained: number;
  steps: MeasuredStep[];
}

/**
 * Climbs the rates with every subject, interleaved (at each rate each subject in turn, the order
 * alternating), so that a change in the machine's load hits all alike. A subject stops climbing at
 * its first step that is not sustained (p99 at or over the limit, an error or a drop), but still
 * runs the report rates above it, so that every subject has figures at those.
 */
export async function climb(run: BenchRun, subjects: readonly Subject[]): Promise<LadderResult[]> {
  const { rates, reportRates, p99Limit } = run.options;
  const results = subjects.map((s): LadderResult & { broken: boolean } => ({
    subject: s.label,
    highestSustained: 0,
    steps: [],
    broken: false,
  }));
  const all = [...new Set([...rates, ...reportRates])].sort((a, b) => a - b);
  for (const [index, rate] of all.entries()) {
    const order = subjects.map((_, i) => i);
    if (index % 2 === 1) order.reverse();
    for (const i of order) {
      const result = results[i]!;
      const onLadder = rates.includes(rate) && !result.broken;
      if (!onLadder && !reportRates.includes(rate)) continue;
      const step = await measureStep(run, subjects[i]!, rate);
      result.steps.push(step);
      if (onLadder) {
        if (sustained(step, p99Limit)) result.highestSustained = rate;
        else result.broken = true;
      }
      run.log(
        `${step.subject} @ ${fmtRate(rate)}/s: p50 ${fmt(step.p50)} ms, p99 ${fmt(step.p99)} ms, ` +
          `${fmtRate(step.okPerSecond)} ok/s, ${step.errors} errors, ${step.dropped} dropped` +
          (step.firstError ? ` (${step.firstError})` : '') +
          `, load ${fmt(step.load1)}`,
      );
      await sleep(PAUSE_MS);
    }
  }
  return results.map(({ broken: _broken, ...r }) => r);
}
