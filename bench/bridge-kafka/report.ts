import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate, median, percentile } from '../support/numbers.ts';
import type { Latencies } from './latency.ts';
import type { BridgeBenchOptions } from './options.ts';

/** The drain phases, in table order. */
export const PHASES = {
  idempotent: 'raw idempotent producer, no transactions (ceiling)',
  transactional: 'raw transactional producer, one transaction per apply',
  perPartition: 'raw transactional producer per partition, in parallel',
  bridge: 'bridge service (child process)',
} as const;
export type Phase = keyof typeof PHASES;

/** What a round measured: ms per phase, and the bridge's own figures. */
export interface Round {
  ms: Record<Phase, number>;
  bridgeCpuMs: number;
  bridgePeakRssMb: number;
}

/** The bridge's target: at least this fraction of the raw transactional producer's rate. */
export const TARGET_RATIO = 0.9;

export function report(
  options: BridgeBenchOptions,
  rounds: readonly Round[],
  latency: { bridge: Latencies; raw: Latencies },
  environment: string,
): { text: string; json: Record<string, unknown> } {
  const rate = (phase: Phase) => median(rounds.map((r) => options.events / (r.ms[phase] / 1000)));
  // Ratios per round (both sides measured minutes apart at most), then their median.
  const ratio = (phase: Phase) => median(rounds.map((r) => r.ms[phase] / r.ms.bridge));
  const phases = Object.keys(PHASES) as Phase[];
  const drain = markdownTable(
    ['drain of the backlog', 'events/s', 'bridge ÷ this'],
    phases.map((phase) => [PHASES[phase], fmtRate(rate(phase)), fmt(ratio(phase))]),
  );
  const perTransaction = Math.ceil(options.batch / options.partitions);
  const cpuPerThousand = median(rounds.map((r) => (r.bridgeCpuMs / options.events) * 1000));
  const rss = median(rounds.map((r) => r.bridgePeakRssMb));
  const line = (name: string, l: Latencies) => [
    name,
    fmt(percentile(l.sorted, 50), 1),
    fmt(percentile(l.sorted, 99), 1),
    fmt(l.sorted.at(-1) ?? Number.NaN, 1),
    String(l.sorted.length),
  ];
  const latencyTable = markdownTable(
    [`read_committed consumer, ${options.rate} events/s`, 'p50 ms', 'p99 ms', 'max ms', 'records'],
    [
      line('capture → bridge → consumer', latency.bridge),
      line('raw idempotent producer → consumer', latency.raw),
    ],
  );
  const vsTransactional = ratio('transactional');
  const text = [
    `Kafka bridge, ${options.events.toLocaleString('en-US')} events over ${options.keys.toLocaleString('en-US')} keys, ` +
      `${options.partitions} partitions, SINK_BATCH_SIZE ${options.batch} (transactions of ~${perTransaction} records per partition), ` +
      `${options.rounds} rounds, medians; ${environment}`,
    '',
    drain,
    '',
    `bridge ÷ raw transactional: ${fmt(vsTransactional)} (target >= ${TARGET_RATIO}: ${vsTransactional >= TARGET_RATIO ? 'met' : 'NOT met'}); ` +
      `bridge ÷ raw idempotent (ceiling): ${fmt(ratio('idempotent'))}. ` +
      `Bridge CPU ${fmt(cpuPerThousand, 1)} ms per 1,000 events, peak RSS ${fmt(rss, 0)} MB.`,
    '',
    latencyTable,
  ].join('\n');
  const json = {
    benchmark: 'bridge-kafka',
    options,
    eventsPerSecond: Object.fromEntries(phases.map((p) => [p, Math.round(rate(p))])),
    bridgeOver: Object.fromEntries(phases.map((p) => [p, Number(fmt(ratio(p), 3))])),
    bridgeCpuMsPerThousand: Number(fmt(cpuPerThousand, 2)),
    bridgePeakRssMb: Number(fmt(rss, 1)),
    latencyMs: {
      bridge: {
        p50: percentile(latency.bridge.sorted, 50),
        p99: percentile(latency.bridge.sorted, 99),
      },
      raw: { p50: percentile(latency.raw.sorted, 50), p99: percentile(latency.raw.sorted, 99) },
    },
  };
  return { text, json };
}
