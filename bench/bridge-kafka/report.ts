import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate, median, percentile } from '../support/numbers.ts';
import type { Latencies } from './latency.ts';
import type { BridgeBenchOptions } from './options.ts';

/** The drain phases, in table order. */
export const PHASES = {
  idempotent: 'raw idempotent producer, no transactions (ceiling)',
  bridgeSized: "raw transactional producer, transactions of the bridge's size (target)",
  perApply: 'raw transactional producer, one transaction per apply',
  perPartition: 'raw transactional producer per partition, in parallel',
  bridge: 'bridge service (child process)',
  compare: 'bridge service of --compare-main (child process)',
} as const;
export type Phase = keyof typeof PHASES;

/** What a round measured: ms per phase run, and the bridge's own figures if it ran. */
export interface Round {
  ms: Partial<Record<Phase, number>>;
  /**
   * CPU of each phase, ms: of the bridge's process for `bridge` and `compare`, of the benchmark
   * process (the raw producer's) for the others.
   */
  cpuMs: Partial<Record<Phase, number>>;
  /** Of the bridge services' drains: transactions aborted, producers started (bridge-drain.ts). */
  failures: Partial<Record<'bridge' | 'compare', { aborted: number; started: number }>>;
  bridgePeakRssMb?: number;
}

/**
 * The bridge's target: at least this fraction of the rate of a raw transactional producer whose
 * transactions are the size of the bridge's (`bridgeSized`).
 */
export const TARGET_RATIO = 0.9;

export function report(
  options: BridgeBenchOptions,
  rounds: readonly Round[],
  latency: { bridge: Latencies; raw: Latencies } | undefined,
  environment: string,
): { text: string; json: Record<string, unknown> } {
  const phases = (Object.keys(PHASES) as Phase[]).filter((phase) => options.phases.has(phase));
  const rate = (phase: Phase) =>
    median(rounds.map((r) => options.events / ((r.ms[phase] ?? Number.NaN) / 1000)));
  // Ratios per round (both sides measured minutes apart at most), then their median.
  const ratio = (phase: Phase) =>
    median(rounds.map((r) => (r.ms[phase] ?? Number.NaN) / (r.ms.bridge ?? Number.NaN)));
  const hasBridge = options.phases.has('bridge');
  // CPU per 1,000 events of each phase: the bridge's process, or the raw producer's.
  const cpu = (phase: Phase) =>
    median(rounds.map((r) => ((r.cpuMs[phase] ?? Number.NaN) / options.events) * 1000));
  const drain = markdownTable(
    [
      'drain of the backlog',
      'events/s',
      'CPU ms per 1,000 events',
      ...(hasBridge ? ['bridge ÷ this'] : []),
    ],
    phases.map((phase) => [
      PHASES[phase],
      fmtRate(rate(phase)),
      fmt(cpu(phase), 1),
      ...(hasBridge ? [fmt(ratio(phase))] : []),
    ]),
  );
  const perTransaction = Math.ceil(options.batch / options.partitions);
  const cpuPerThousand = cpu('bridge');
  const rss = median(rounds.map((r) => r.bridgePeakRssMb ?? Number.NaN));
  const rounded = (phase: Phase) => rounds.map((r) => fmt(r.ms[phase] ?? Number.NaN, 0)).join(', ');
  const summary: string[] = [];
  if (hasBridge) {
    const versus = (phase: Phase, what: string) =>
      options.phases.has(phase) ? [`bridge ÷ ${what}: ${fmt(ratio(phase))}`] : [];
    const target = options.phases.has('bridgeSized')
      ? [
          `bridge ÷ raw transactional, transactions of the bridge's size: ${fmt(ratio('bridgeSized'))} ` +
            `(target >= ${TARGET_RATIO}: ${ratio('bridgeSized') >= TARGET_RATIO ? 'met' : 'NOT met'})`,
        ]
      : [];
    summary.push(
      [
        ...target,
        ...versus('perApply', 'raw transactional, one transaction per apply'),
        ...versus('perPartition', 'raw transactional per partition, in parallel'),
        ...versus('idempotent', 'raw idempotent (ceiling)'),
        ...versus('compare', 'the bridge of --compare-main'),
      ].join('; ') +
        `. Bridge CPU ${fmt(cpuPerThousand, 1)} ms per 1,000 events, peak RSS ${fmt(rss, 0)} MB.`,
    );
  }
  summary.push(`Rounds, ms: ${phases.map((phase) => `${phase} ${rounded(phase)}`).join('; ')}.`);
  for (const phase of ['bridge', 'compare'] as const)
    if (options.phases.has(phase))
      summary.push(
        `${phase}, transactions aborted / producers started per round: ${rounds
          .map((r) => `${r.failures[phase]?.aborted ?? '?'} / ${r.failures[phase]?.started ?? '?'}`)
          .join(', ')}.`,
      );
  const line = (name: string, l: Latencies) => [
    name,
    fmt(percentile(l.sorted, 50), 1),
    fmt(percentile(l.sorted, 99), 1),
    fmt(l.sorted.at(-1) ?? Number.NaN, 1),
    String(l.sorted.length),
  ];
  const latencyTable = latency
    ? markdownTable(
        [
          `read_committed consumer, ${options.rate} events/s`,
          'p50 ms',
          'p99 ms',
          'max ms',
          'records',
        ],
        [
          line('capture → bridge → consumer', latency.bridge),
          line('raw idempotent producer → consumer', latency.raw),
        ],
      )
    : undefined;
  const text = [
    `Kafka bridge, ${options.events.toLocaleString('en-US')} events over ${options.keys.toLocaleString('en-US')} keys, ` +
      `${options.partitions} partitions, SINK_BATCH_SIZE ${options.batch} (transactions of ~${perTransaction} records per partition), ` +
      `${options.rounds} rounds, medians; ${environment}`,
    '',
    drain,
    '',
    ...summary,
    ...(latencyTable ? ['', latencyTable] : []),
  ].join('\n');
  const json = {
    benchmark: 'bridge-kafka',
    options: { ...options, phases: [...options.phases] },
    eventsPerSecond: Object.fromEntries(phases.map((p) => [p, Math.round(rate(p))])),
    cpuMsPerThousand: Object.fromEntries(phases.map((p) => [p, Number(fmt(cpu(p), 2))])),
    roundsMs: Object.fromEntries(
      phases.map((p) => [p, rounds.map((r) => Math.round(r.ms[p] ?? Number.NaN))]),
    ),
    ...(hasBridge
      ? {
          bridgeOver: Object.fromEntries(phases.map((p) => [p, Number(fmt(ratio(p), 3))])),
          bridgeCpuMsPerThousand: Number(fmt(cpuPerThousand, 2)),
          bridgePeakRssMb: Number(fmt(rss, 1)),
        }
      : {}),
    ...(latency
      ? {
          latencyMs: {
            bridge: {
              p50: percentile(latency.bridge.sorted, 50),
              p99: percentile(latency.bridge.sorted, 99),
            },
            raw: {
              p50: percentile(latency.raw.sorted, 50),
              p99: percentile(latency.raw.sorted, 99),
            },
          },
        }
      : {}),
  };
  return { text, json };
}
