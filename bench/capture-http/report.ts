import { cpus, loadavg } from 'node:os';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate } from '../support/numbers.ts';
import type { AnnouncementStats } from './announcement-monitor.ts';
import type { LadderResult } from './ladder.ts';
import type { MeasuredStep } from './measure-step.ts';
import type { BenchOptions } from './options.ts';

/** The targets. */
export const TARGETS = {
  /** Highest sustained rate of capture over that of the bare route. */
  ratio: 0.8,
  /** p99 of a write-through at 1000 writes/s, ms. */
  throughP99Ms: 15,
} as const;

export interface Report {
  options: BenchOptions;
  redis: string;
  postgres: string;
  bare: LadderResult;
  capture: LadderResult;
  /** Write-through and write-behind steps with the sink running; empty with --skip-through. */
  withSink: MeasuredStep[];
  /** 1-minute load averages seen at the end of each step. */
  loads: number[];
  runSeconds: number;
}

const stepRow = (s: MeasuredStep): string[] => [
  s.subject + (s.mode ? `, ${s.mode}` : ''),
  fmtRate(s.rate),
  fmtRate(s.okPerSecond),
  fmt(s.p50),
  fmt(s.p90),
  fmt(s.p99),
  fmt(s.max, 1),
  String(s.errors),
  String(s.dropped),
  fmt(s.sendLagP99),
  String(s.maxQueued),
  fmt(s.serviceCpuMicros, 0),
  fmt(s.redisCpuMicros, 0),
  fmt(s.writeMs),
  fmt(s.writesPerCall, 1),
  fmt(s.throughWaitMs),
];

const STEP_HEADERS = [
  'subject',
  'rate/s',
  'ok/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'errors',
  'dropped',
  'send lag p99 ms',
  'pool queue max',
  'service CPU µs/req',
  'Redis CPU µs/req',
  'capture write ms',
  'writes/call',
  'through wait ms',
];

const ANNOUNCEMENT_HEADERS = [
  'mode',
  'rate/s',
  'announcements',
  'newest event age at announcement ms p50 / p99',
  'oldest event age ms p50 / p99',
  'sink cycle ms p50 / p99',
  'through wait ms (mean)',
];

const announcementRow = (s: MeasuredStep, a: AnnouncementStats): string[] => [
  s.mode ?? '',
  fmtRate(s.rate),
  String(a.announcements),
  `${fmt(a.newestAge[0], 1)} / ${fmt(a.newestAge[1], 1)}`,
  `${fmt(a.oldestAge[0], 1)} / ${fmt(a.oldestAge[1], 1)}`,
  `${fmt(a.cycle[0], 1)} / ${fmt(a.cycle[1], 1)}`,
  fmt(s.throughWaitMs),
];

/** Prints the tables and the verdicts to stdout, then one JSON line. */
export function printReport(report: Report): void {
  const { bare, capture, withSink, options } = report;
  const at = (ladder: LadderResult, rate: number) => ladder.steps.find((s) => s.rate === rate);
  const ratio = capture.highestSustained / bare.highestSustained;
  const out: string[] = [];

  const interleaved = [...bare.steps, ...capture.steps].sort(
    (a, b) => a.rate - b.rate || a.subject.localeCompare(b.subject),
  );
  out.push(markdownTable(STEP_HEADERS, interleaved.map(stepRow)), '');

  const summary: string[][] = [
    [
      `highest sustained rate/s (p99 < ${options.p99Limit} ms, no error or drop)`,
      fmtRate(bare.highestSustained),
      fmtRate(capture.highestSustained),
      `**${fmt(ratio)}x**`,
    ],
  ];
  for (const rate of options.reportRates) {
    const b = at(bare, rate);
    const c = at(capture, rate);
    for (const p of ['p50', 'p99'] as const) {
      summary.push([
        `${p} at ${fmtRate(rate)}/s (ms)`,
        fmt(b?.[p] ?? Number.NaN),
        fmt(c?.[p] ?? Number.NaN),
        `${fmt((c?.[p] ?? Number.NaN) / (b?.[p] ?? Number.NaN))}x`,
      ]);
    }
  }
  out.push(markdownTable(['measure', 'bare route', 'capture', 'capture / bare'], summary), '');

  if (withSink.length > 0) {
    out.push(markdownTable(STEP_HEADERS, withSink.map(stepRow)), '');
    out.push(
      markdownTable(
        ANNOUNCEMENT_HEADERS,
        withSink.flatMap((s) => (s.announcements ? [announcementRow(s, s.announcements)] : [])),
      ),
      '',
    );
  }

  const through1k = withSink.find((s) => s.mode === 'through' && s.rate === 1000);
  const behind1k = withSink.find((s) => s.mode === 'behind' && s.rate === 1000);
  out.push(
    `capture / bare route, highest sustained rate: ${fmt(ratio)}x ` +
      `(${fmtRate(capture.highestSustained)} / ${fmtRate(bare.highestSustained)} writes/s); ` +
      `target >= ${TARGETS.ratio}x: ${ratio >= TARGETS.ratio ? 'met' : 'NOT met'}`,
  );
  if (through1k) {
    out.push(
      `write-through p99 at 1,000 writes/s: ${fmt(through1k.p99)} ms ` +
        `(write-behind with the sink running: ${fmt(behind1k?.p99 ?? Number.NaN)} ms, ` +
        `${fmt(through1k.p99 / (behind1k?.p99 ?? Number.NaN))}x); ` +
        `target < ${TARGETS.throughP99Ms} ms: ${through1k.errors === 0 && through1k.dropped === 0 && through1k.p99 < TARGETS.throughP99Ms ? 'met' : 'NOT met'}`,
    );
  }
  const loads = report.loads;
  out.push(
    `load average (1 min) over the steps: ${fmt(Math.min(...loads))} to ${fmt(Math.max(...loads))} ` +
      `on ${cpus().length} CPUs; run took ${report.runSeconds} s`,
  );
  process.stdout.write(`\n${out.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'capture-http',
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      cpus: cpus().length,
      loadavg: loadavg(),
      ...report,
      ratio,
      targets: TARGETS,
    })}\n`,
  );
}
