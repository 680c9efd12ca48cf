import { cpus } from 'node:os';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate } from '../support/numbers.ts';
import { PARTITIONS } from './backlog.ts';
import type { BenchOptions } from './options.ts';
import { BLOCK_MS } from './postgres-service.ts';
import { type SizeSummary, TARGET_RATIO, TARGET_RSS_MB } from './summary.ts';

/** What the report states besides the figures of every batch size. */
export interface ReportFacts {
  options: BenchOptions;
  /** Server versions. */
  redis: string;
  postgres: string;
  /** capture.writeMany rate while loading the backlog, events/s. */
  preloadEventsPerSecond: number;
  /** Decoding's CPU µs per event (`--breakdown` only). */
  decodeMicros: number;
  runSeconds: number;
}

/**
 * Prints the report on stdout: the markdown tables BENCHMARKS.md quotes, one line per batch size
 * against the targets, then everything as one JSON line.
 */
export function printReport(sizes: readonly SizeSummary[], facts: ReportFacts): void {
  const { options, decodeMicros } = facts;
  const result = {
    bench: 'sink-postgres',
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpus: cpus().length,
    redis: facts.redis,
    postgres: facts.postgres,
    options: { ...options, partitions: PARTITIONS, blockMs: BLOCK_MS },
    preloadEventsPerSecond: Math.round(facts.preloadEventsPerSecond),
    decodeCpuMicrosPerEvent: options.breakdown ? Number(decodeMicros.toFixed(2)) : undefined,
    results: sizes,
    target: { ratio: TARGET_RATIO, rssMb: TARGET_RSS_MB },
    runSeconds: facts.runSeconds,
  };
  const lines = [
    markdownTable(
      [
        'sink batch size',
        'sink service (events/s)',
        'raw upsert (events/s)',
        'service / raw',
        'freshness p50 / p99 (ms)',
        'sink peak RSS (MB)',
      ],
      sizes.map((s) => [
        String(s.batchSize),
        fmtRate(s.service.eventsPerSecond),
        fmtRate(s.raw.eventsPerSecond),
        `**${fmt(s.ratio)}x**`,
        `${fmt(s.freshness.p50, 1)} / ${fmt(s.freshness.p99, 1)}`,
        fmt(s.service.peakRssMb, 0),
      ]),
      right(6),
    ),
    '',
    markdownTable(
      [
        'sink batch size',
        'service CPU µs/event',
        'raw client CPU µs/event',
        'service startup (ms)',
        'service idle RSS (MB)',
        'freshness from append p50 / p99 (ms)',
        'per-round ratios',
        'whole drains, warm-up included: service / raw',
      ],
      sizes.map((s) => [
        String(s.batchSize),
        fmt(s.service.cpuMicrosPerEvent, 1),
        fmt(s.raw.cpuMicrosPerEvent, 1),
        fmt(s.service.startupMs, 0),
        fmt(s.service.idleRssMb, 0),
        `${fmt(s.freshness.appendP50, 1)} / ${fmt(s.freshness.appendP99, 1)}`,
        s.ratios.map((r) => fmt(r)).join(', '),
        `${fmt(s.wholeRatio)}x`,
      ]),
      [...right(6), 'left', 'right'],
    ),
  ];
  if (options.breakdown) {
    // The rungs time whole drains, so they are set beside the whole drains of raw and service.
    const step = (rate: number, s: SizeSummary) =>
      `${fmtRate(rate)} (${fmt(rate / s.wholeRates.raw)}x)`;
    lines.push(
      '',
      markdownTable(
        [
          'sink batch size (whole drains)',
          'raw upsert',
          'PostgresSink.apply alone (no Redis)',
          'XREADGROUP alone (no PostgreSQL)',
          'SinkRunner, in-process',
          'the service, child process',
        ],
        sizes.map((s) => [
          String(s.batchSize),
          fmtRate(s.wholeRates.raw),
          step(s.applyAlone!.eventsPerSecond, s),
          step(s.readAlone!.eventsPerSecond, s),
          step(s.inProcess!.eventsPerSecond, s),
          step(s.wholeRates.service, s),
        ]),
        right(6),
      ),
      '',
      `Decoding alone (envelope + Avro + copy, one thread): ${fmt(decodeMicros, 1)} µs CPU per event. ` +
        `XREADGROUP alone: ${sizes.map((s) => `${fmt(s.readAlone!.cpuMicrosPerEvent, 1)} µs (batch ${s.batchSize})`).join(', ')} client CPU per event.`,
      '',
      markdownTable(
        [
          'sink batch size',
          'runner CPU µs/event',
          'apply alone CPU µs/event',
          'applies',
          'events / apply',
          'share of time in apply',
          'ms / apply outside it',
          'Redis commands / apply (ms to reply, overlapping)',
        ],
        sizes.map((s) => {
          const b = s.inProcess!;
          const commands = Object.entries(b.commandsPerApply)
            .map(([name, n]) => `${name} ${fmt(n, 1)} (${fmt(b.commandMsPerApply[name] ?? 0, 2)})`)
            .join(', ');
          return [
            String(s.batchSize),
            fmt(b.cpuMicrosPerEvent, 1),
            fmt(s.applyAlone!.cpuMicrosPerEvent, 1),
            fmt(b.applies, 0),
            fmt(b.eventsPerApply, 0),
            `${fmt(b.applyShare * 100, 0)}%`,
            fmt(b.otherMsPerApply, 2),
            commands,
          ];
        }),
        [...right(7), 'left'],
      ),
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  for (const s of sizes) {
    process.stdout.write(
      `batch ${s.batchSize}: service / raw = ${fmt(s.ratio)}x (target >= ${TARGET_RATIO}x: ` +
        `${s.meetsRatio ? 'met' : 'NOT met'}); peak RSS ${fmt(s.service.peakRssMb, 0)} MB ` +
        `(target < ${TARGET_RSS_MB} MB: ${s.meetsRss ? 'met' : 'NOT met'})\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** `n` right-aligned columns: every figure column of these tables, the batch size included. */
function right(n: number): Array<'right'> {
  return new Array<'right'>(n).fill('right');
}
