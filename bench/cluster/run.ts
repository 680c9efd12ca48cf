/**
 * Cluster benchmark: capture and a PostgreSQL sink on a Redis Cluster beside one Redis server, in
 * the same run, reported as ratios (cluster / single).
 *
 *   node --import tsx bench/cluster/run.ts [--rounds 3] [--events 100000] [--keys 10000]
 *                                          [--chunk 1000] [--batch-size 1000] [--warmup 10000]
 *
 * Every option can also come from the environment (BENCH_ROUNDS, BENCH_EVENTS, BENCH_KEYS,
 * BENCH_CHUNK, BENCH_BATCH_SIZE, BENCH_WARMUP). REDIS_URL is the single server (default
 * redis://127.0.0.1:6379), REDIS_CLUSTER_NODES the cluster (default 127.0.0.1:7000-7005),
 * POSTGRES_URL the database.
 *
 * Every round, on each side:
 * - capture: `--events` upserts of the `todo` entity (16 partitions) over `--keys` seeded keys,
 *   written with `capture.writeMany` in calls of `--chunk`, awaited one after the other;
 * - drain: a SinkRunner with a PostgresSink, in this process, drains that backlog into a fresh
 *   PostgreSQL schema, timed from `start()` until every partition's applied watermark is its
 *   stream's last id; the table is then checked to hold one row per key written.
 * Both sides capture (in the round's order), then both drain (in the same order); the order
 * alternates every round so that a noisy neighbour hits both about equally. Each round writes
 * under a fresh key prefix, removed from both at the end of the round (every master of the
 * cluster is scanned); its schemas are dropped after each drain.
 *
 * On one machine the cluster's three masters share the cores the single server has alone, so the
 * ratios show what cluster mode costs (routing, one script call per partition per node, a read
 * connection per partition), not how it scales.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { connectRedisClient } from '../../runtime/redis-connection.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { RunSchemas } from '../sink-postgres/run-schemas.ts';
import { markdownTable } from '../support/markdown-table.ts';
import { fmt, fmtRate, median } from '../support/numbers.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import { parseOptions } from './options.ts';
import {
  buildChunks,
  type CommandCounts,
  capturePhase,
  distinctKeys,
  drainPhase,
  PARTITIONS,
  type PhaseCost,
  type Side,
} from './phases.ts';
import { nodeCounts, redisVersion } from './redis-nodes.ts';

const DEFAULT_CLUSTER_NODES = [7000, 7001, 7002, 7003, 7004, 7005]
  .map((port) => `127.0.0.1:${port}`)
  .join(',');

type SideName = Side['name'];
type Phase = 'capture' | 'drain';
const PHASES: readonly Phase[] = ['capture', 'drain'];
const PHASE_LABELS: Record<Phase, string> = {
  capture: 'capture.writeMany',
  drain: 'PostgreSQL sink drain',
};

/** One round's figures of one side. */
interface RoundResult {
  capture: PhaseCost;
  drain: PhaseCost;
  drainStartMs: number;
  /** Commands the servers (masters) ran per 1000 events, by phase. */
  commands: Record<Phase, CommandCounts>;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.trim() || DEFAULT_CLUSTER_NODES;
  const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
  const ns = `bench_cluster_${randomBytes(4).toString('hex')}`;
  const schema = JSON.parse(
    readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
  ) as AvroSchema;

  const sides: Record<SideName, Side> = {
    single: {
      name: 'single',
      connection: { url: redisUrl },
      admin: connectRedisClient({ url: redisUrl }),
    },
    cluster: {
      name: 'cluster',
      connection: { clusterNodes },
      admin: connectRedisClient({ clusterNodes }),
    },
  };
  // Commands wait for the cluster's slot map; after one, its nodes are known.
  await Promise.all(Object.values(sides).map((side) => side.admin.exists(`${ns}:ready`)));
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  admin.on('error', () => undefined);
  const schemas = new RunSchemas(admin, postgresUrl, ns);

  // Prefixes written and not removed yet, removed at the end, also after Ctrl-C.
  const live = new Set<string>();
  const cleanup = async () => {
    for (const prefix of live) {
      for (const side of Object.values(sides)) await deleteUnder(side.admin, `${prefix}:*`);
      live.delete(prefix);
    }
    await schemas.dropAll(log);
  };
  let cleaning: Promise<void> | undefined;
  const close = () => {
    cleaning ??= cleanup().finally(async () => {
      await admin.end().catch(() => undefined);
      for (const side of Object.values(sides)) await side.admin.quit().catch(() => undefined);
    });
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void close().finally(() => process.exit(130));
    });
  }

  /** Both sides capture `events` under the round's prefix, then both drain them, in `order`. */
  const round = async (
    label: string,
    order: readonly SideName[],
    events: number,
    keys: number,
  ): Promise<Record<SideName, RoundResult>> => {
    const prefix = `${ns}_${label}`;
    const chunks = buildChunks(events, keys, options.chunk);
    const rows = distinctKeys(chunks);
    live.add(prefix);
    const captured = {} as Record<SideName, Awaited<ReturnType<typeof capturePhase>>>;
    for (const name of order)
      captured[name] = await capturePhase(sides[name], schema, prefix, chunks);
    const result = {} as Record<SideName, RoundResult>;
    for (const name of order) {
      const pgSchema = await schemas.create(`${label}_${name}`);
      const drained = await drainPhase(
        sides[name],
        postgresUrl,
        pgSchema,
        prefix,
        options.batchSize,
        captured[name].lastIds,
        events,
      );
      // Checked, then dropped; retire also waits for autovacuum, so the next drain starts quiet.
      const digest = await schemas.retire(pgSchema);
      const held = Number(digest.split(':')[0]);
      if (held !== rows) throw new Error(`${name}: the table holds ${held} rows, expected ${rows}`);
      result[name] = {
        capture: captured[name].cost,
        drain: drained.cost,
        drainStartMs: drained.startMs,
        commands: { capture: captured[name].commands, drain: drained.commands },
      };
    }
    for (const side of Object.values(sides)) await deleteUnder(side.admin, `${prefix}:*`);
    live.delete(prefix);
    return result;
  };

  const loadBefore = loadavg();
  const nodes = nodeCounts(sides.cluster.admin);
  log(
    `cluster bench: ${options.rounds} rounds of ${options.events} events over ${options.keys} keys, ` +
      `${PARTITIONS} partitions, writeMany of ${options.chunk}, sink batch ${options.batchSize}; ` +
      `cluster of ${nodes.masters} masters + ${nodes.replicas} replicas; load average ` +
      loadBefore.map((l) => fmt(l, 2)).join(' '),
  );
  const rounds: Array<Record<SideName, RoundResult>> = [];
  try {
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} events per side, not measured`);
      await round(
        'warmup',
        ['single', 'cluster'],
        options.warmup,
        Math.min(options.keys, options.warmup),
      );
    }
    for (let r = 0; r < options.rounds; r++) {
      const order: readonly SideName[] =
        r % 2 === 0 ? ['single', 'cluster'] : ['cluster', 'single'];
      const result = await round(`r${r + 1}`, order, options.events, options.keys);
      rounds.push(result);
      log(
        `round ${r + 1} (${order.join(' first, ')} second): ` +
          PHASES.map(
            (phase) =>
              `${phase} single ${fmtRate(result.single[phase].eventsPerSecond)}/s, cluster ` +
              `${fmtRate(result.cluster[phase].eventsPerSecond)}/s ` +
              `(${fmt(result.cluster[phase].eventsPerSecond / result.single[phase].eventsPerSecond, 2)}x)`,
          ).join('; '),
      );
    }
    const loadAfter = loadavg();
    report(options, rounds, {
      loadBefore,
      loadAfter,
      nodes,
      redis: {
        single: await redisVersion(sides.single.admin),
        cluster: await redisVersion(sides.cluster.admin),
      },
    });
  } finally {
    await close();
  }
}

interface RunFacts {
  loadBefore: number[];
  loadAfter: number[];
  nodes: { masters: number; replicas: number };
  redis: Record<SideName, string>;
}

function report(
  options: ReturnType<typeof parseOptions>,
  rounds: ReadonlyArray<Record<SideName, RoundResult>>,
  facts: RunFacts,
): void {
  const of = (side: SideName, phase: Phase, field: keyof PhaseCost) =>
    median(rounds.map((r) => r[side][phase][field]));
  const ratios = (phase: Phase) =>
    rounds.map((r) => r.cluster[phase].eventsPerSecond / r.single[phase].eventsPerSecond);
  const phaseSummary = (phase: Phase) => ({
    single: summarize(rounds.map((r) => r.single[phase])),
    cluster: summarize(rounds.map((r) => r.cluster[phase])),
    ratio: median(ratios(phase)),
    ratios: ratios(phase),
  });
  const summary = { capture: phaseSummary('capture'), drain: phaseSummary('drain') };

  const rows: string[][] = [];
  for (const phase of PHASES) {
    const label = PHASE_LABELS[phase];
    const single = of('single', phase, 'eventsPerSecond');
    const cluster = of('cluster', phase, 'eventsPerSecond');
    rows.push([
      `${label} (events/s)`,
      fmtRate(single),
      fmtRate(cluster),
      `**${fmt(summary[phase].ratio, 2)}x**`,
    ]);
    const micros = (field: keyof PhaseCost, what: string) => {
      const s = of('single', phase, field);
      const c = of('cluster', phase, field);
      rows.push([`${label}: ${what} (µs/event)`, fmt(s, 1), fmt(c, 1), `${fmt(c / s, 2)}x`]);
    };
    micros('processMicrosPerEvent', 'this process CPU');
    micros('redisMicrosPerEvent', 'Redis masters CPU');
    rows.push([
      `${label}: Redis replicas CPU (µs/event)`,
      'n/a',
      fmt(of('cluster', phase, 'replicaMicrosPerEvent'), 1),
      '',
    ]);
  }
  const startMs = (side: SideName) => median(rounds.map((r) => r[side].drainStartMs));
  rows.push([
    'sink start, inside the drain (ms)',
    fmt(startMs('single'), 0),
    fmt(startMs('cluster'), 0),
    `${fmt(startMs('cluster') / startMs('single'), 2)}x`,
  ]);
  const table = markdownTable(
    ['measure', 'single Redis', 'Redis Cluster', 'cluster / single'],
    rows,
  );
  process.stdout.write(`\n${table}\n\n${commandTable(rounds)}\n\n`);
  for (const phase of PHASES) {
    process.stdout.write(
      `${PHASE_LABELS[phase]} cluster / single = ${fmt(summary[phase].ratio, 2)}x ` +
        `(median of the per-round ratios ${summary[phase].ratios.map((r) => fmt(r, 2)).join(', ')})\n`,
    );
  }
  process.stdout.write(
    `load average before ${facts.loadBefore.map((l) => fmt(l, 2)).join(' ')}, ` +
      `after ${facts.loadAfter.map((l) => fmt(l, 2)).join(' ')}\n`,
  );
  const result = {
    bench: 'cluster',
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpus: cpus().length,
    redis: facts.redis,
    cluster: facts.nodes,
    partitions: PARTITIONS,
    options,
    loadavg: { before: facts.loadBefore, after: facts.loadAfter },
    ...summary,
    drainStartMs: { single: startMs('single'), cluster: startMs('cluster') },
    rounds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Commands a phase made the servers run, per 1000 events: below this on both sides, left out. */
const COMMANDS_SHOWN_FROM = 0.5;

/**
 * Redis commands per 1000 events, medians over the rounds, by phase and side: where the
 * cluster's extra work comes from (its reads per partition, its pipelines per partition).
 */
function commandTable(rounds: ReadonlyArray<Record<SideName, RoundResult>>): string {
  const columns = PHASES.flatMap((phase) =>
    (['single', 'cluster'] as const).map((side) => ({ phase, side })),
  );
  const names = new Set<string>();
  for (const r of rounds)
    for (const { phase, side } of columns)
      for (const name of Object.keys(r[side].commands[phase])) names.add(name);
  const rows = [...names]
    .map((name) => ({
      name,
      values: columns.map(({ phase, side }) =>
        median(rounds.map((r) => r[side].commands[phase][name] ?? 0)),
      ),
    }))
    .filter((row) => row.values.some((v) => v >= COMMANDS_SHOWN_FROM))
    .sort((a, b) => b.values.reduce((x, y) => x + y) - a.values.reduce((x, y) => x + y));
  return markdownTable(
    [
      'Redis commands per 1000 events (masters)',
      ...columns.map(({ phase, side }) => `${phase}, ${side}`),
    ],
    rows.map((row) => [row.name, ...row.values.map((v) => fmt(v, 1))]),
  );
}

/** Medians over the rounds of every figure of a phase. */
function summarize(costs: readonly PhaseCost[]): PhaseCost {
  const m = (field: keyof PhaseCost) => median(costs.map((c) => c[field]));
  return {
    eventsPerSecond: m('eventsPerSecond'),
    ms: m('ms'),
    processMicrosPerEvent: m('processMicrosPerEvent'),
    redisMicrosPerEvent: m('redisMicrosPerEvent'),
    replicaMicrosPerEvent: m('replicaMicrosPerEvent'),
  };
}

await main();
