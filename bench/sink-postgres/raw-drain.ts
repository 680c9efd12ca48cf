import pg from 'pg';
import { type Backlog, ENTITY, type LoadedEvent } from './backlog.ts';
import type { DrainResult } from './drain-result.ts';
import { perStream, type WarmUp } from './reads.ts';

/** The raw baseline's figures: the whole drain's rate too, and the work it did. */
export interface RawDrainResult extends DrainResult {
  /** Events/s over the whole drain, warm-up included. */
  wholeEventsPerSecond: number;
  /** Statements (one implicit transaction each). */
  transactions: number;
  /** Rows written: the last event per key of each group. */
  rows: number;
}

/** Splits `<ms>-<seq>` without BigInt: the baseline passes the parts as text, like the sink. */
function versionParts(id: string): [string, string] {
  const dash = id.indexOf('-');
  return [id.slice(0, dash), id.slice(dash + 1)];
}

/**
 * The raw baseline: a batched upsert of the rows the sink writes, without the sink. Same grouping
 * (one read = up to `batchSize` entries over all partitions), same last-event-per-key reduction,
 * the same upsert, one statement (so one implicit transaction) per group, one client. The sink
 * does more in its one statement per group (the offsets fence and the offsets themselves).
 */
export async function rawDrain(
  url: string,
  pgSchema: string,
  backlog: Backlog,
  batchSize: number,
  warmUp: WarmUp,
): Promise<RawDrainResult> {
  const table = `${pg.escapeIdentifier(pgSchema)}.${pg.escapeIdentifier(ENTITY)}`;
  const columns = ['id', 'name', 'description', 'done', 'created_at', 'updated_at'];
  const types = ['text', 'text', 'text', 'boolean', 'timestamptz', 'timestamptz'];
  const upsert = `INSERT INTO ${table} AS t (${columns.join(', ')}, _cdc_ms, _cdc_seq)
     SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}, $7::bigint[], $8::bigint[])
     ON CONFLICT (id) DO UPDATE SET ${[...columns.slice(1), '_cdc_ms', '_cdc_seq'].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
     WHERE (t._cdc_ms, t._cdc_seq) < (EXCLUDED._cdc_ms, EXCLUDED._cdc_seq)`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let transactions = 0;
  let rows = 0;
  try {
    const wholeStarted = performance.now();
    let cpu = process.cpuUsage();
    let started = wholeStarted;
    // The sink's batch size bounds a whole read, shared out over the partition streams.
    const share = perStream(batchSize);
    for (let from = 0; ; from += share) {
      if (from === warmUp.perPartition && from > 0) {
        cpu = process.cpuUsage();
        started = performance.now();
      }
      const groups = backlog.partitions
        .map((events, partition) => ({ partition, events: events.slice(from, from + share) }))
        .filter((g) => g.events.length > 0);
      if (groups.length === 0) break;
      const latest = new Map<string, LoadedEvent>();
      for (const g of groups) for (const e of g.events) latest.set(e.key, e);
      const params: unknown[][] = columns.map(() => []);
      const ms: string[] = [];
      const seq: string[] = [];
      for (const e of latest.values()) {
        for (let c = 0; c < columns.length; c++) params[c]!.push(e.record[columns[c]!] ?? null);
        const [m, s] = versionParts(e.id);
        ms.push(m);
        seq.push(s);
      }
      await client.query(upsert, [...params, ms, seq]);
      transactions++;
      rows += latest.size;
    }
    const finished = performance.now();
    const elapsed = finished - started;
    const used = process.cpuUsage(cpu);
    const events = backlog.partitions.reduce((n, list) => n + list.length, 0);
    const timed = events - warmUp.events;
    return {
      eventsPerSecond: timed / (elapsed / 1000),
      wholeEventsPerSecond: events / ((finished - wholeStarted) / 1000),
      ms: elapsed,
      cpuMicrosPerEvent: (used.user + used.system) / timed,
      transactions,
      rows,
    };
  } finally {
    await client.end();
  }
}
