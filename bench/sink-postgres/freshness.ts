import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchWrite, Capture } from '../../runtime/capture/capture.ts';
import { compareStreamIds, streamIdTime } from '../../runtime/stream-id.ts';
import { fmt, fmtRate, percentile, seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';
import { ENTITY, PARTITIONS } from './backlog.ts';
import type { BenchRun } from './bench-run.ts';
import { spawnService } from './postgres-service.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

/** Writes per capture.writeMany call in the freshness phase. */
const LIVE_BATCH = 100;

/** How fresh the table stayed under a steady write load, for one batch size. */
export interface FreshnessResult {
  batchSize: number;
  events: number;
  /** Events/s actually written. */
  writtenPerSecond: number;
  /** From the writeMany call to the covering watermark announcement, ms. */
  p50: number;
  p99: number;
  max: number;
  /** From the Redis append (stream id time) to the covering announcement, ms. */
  appendP50: number;
  appendP99: number;
  peakRssMb: number;
}

/**
 * One service on empty streams while capture.writeMany writes `--rate` events/s for `--seconds`:
 * per event, the time from the writeMany call (and from the Redis append) to the first watermark
 * announcement that covers it.
 */
async function freshness(
  run: BenchRun,
  capture: Capture,
  pgSchema: string,
  batchSize: number,
): Promise<FreshnessResult> {
  const { options } = run;
  const sinkName = `fresh-b${batchSize}`;
  const tracker = await WatermarkTracker.open(run.redisUrl, run.redis, capture);
  const child = spawnService({
    redisUrl: run.redisUrl,
    postgresUrl: run.postgresUrl,
    prefix: run.freshPrefix,
    sinkName,
    pgSchema,
    batchSize,
    profileDir: options.profile,
    nodeFlags: options.nodeFlags,
  });
  run.children.add(child);
  const random = seeded(0xf4e5);
  let i = 0;
  const batchOf = (n: number): BatchWrite[] =>
    Array.from({ length: n }, () => ({
      op: 'upsert' as const,
      record: benchTodo(i++, Math.floor(random() * options.keys)),
    }));
  try {
    await child.started;
    // Warm-up: connections, JIT, the first statements; not measured.
    for (let w = 0; w < 5; w++) {
      const results = await capture.writeMany(ENTITY, batchOf(LIVE_BATCH));
      const targets = new Map<number, string>();
      for (const r of results) targets.set(r.partition, r.id);
      await tracker.until(sinkName, targets, 30_000);
    }

    interface Pending {
      id: string;
      calledAt: number;
    }
    const pending: Pending[][] = Array.from({ length: PARTITIONS }, () => []);
    const heads = new Array<number>(PARTITIONS).fill(0);
    const announced = new Array<string | undefined>(PARTITIONS).fill(undefined);
    const fromCall: number[] = [];
    const fromAppend: number[] = [];
    const record = (p: Pending, at: number) => {
      fromCall.push(at - p.calledAt);
      fromAppend.push(at - streamIdTime(p.id));
    };
    const off = tracker.on((message, at) => {
      if (message.sink !== sinkName || message.entity !== ENTITY) return;
      const p = message.partition;
      const prior = announced[p];
      if (prior === undefined || compareStreamIds(message.id, prior) > 0) announced[p] = message.id;
      const queue = pending[p]!;
      while (heads[p]! < queue.length && compareStreamIds(queue[heads[p]!]!.id, message.id) <= 0)
        record(queue[heads[p]!++]!, at);
    });

    const batches = Math.max(1, Math.round((options.rate * options.seconds) / LIVE_BATCH));
    const intervalMs = (LIVE_BATCH * 1000) / options.rate;
    const startedAt = performance.now();
    for (let b = 0; b < batches; b++) {
      const wait = startedAt + b * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      const writes = batchOf(LIVE_BATCH);
      const calledAt = Date.now();
      const results = await capture.writeMany(ENTITY, writes);
      for (const r of results) {
        const entry = { id: r.id, calledAt };
        const mark = announced[r.partition];
        // The announcement can overtake the pipeline's reply: then the event is applied already.
        if (mark !== undefined && compareStreamIds(r.id, mark) <= 0) record(entry, Date.now());
        else pending[r.partition]!.push(entry);
      }
    }
    const writtenPerSecond = (batches * LIVE_BATCH) / ((performance.now() - startedAt) / 1000);
    const deadline = Date.now() + 30_000;
    while (pending.some((q, p) => heads[p]! < q.length)) {
      if (Date.now() > deadline) throw new Error('freshness: events still unapplied after 30 s');
      await sleep(20);
    }
    off();
    const stats = await child.stop();
    const byCall = Float64Array.from(fromCall).sort();
    const byAppend = Float64Array.from(fromAppend).sort();
    return {
      batchSize,
      events: batches * LIVE_BATCH,
      writtenPerSecond,
      p50: percentile(byCall, 50),
      p99: percentile(byCall, 99),
      max: byCall.at(-1) ?? Number.NaN,
      appendP50: percentile(byAppend, 50),
      appendP99: percentile(byAppend, 99),
      peakRssMb: stats?.peakRssMb ?? Number.NaN,
    };
  } finally {
    await child.stop().catch(() => undefined);
    run.children.delete(child);
    await tracker.close();
  }
}

/** The freshness phase: one service per batch size, on streams of a prefix of its own. */
export async function freshnessRuns(run: BenchRun): Promise<FreshnessResult[]> {
  const capture = await run.openCapture(run.freshPrefix);
  const fresh: FreshnessResult[] = [];
  for (const size of run.options.batchSizes) {
    const pgSchema = await run.schemas.create(`fresh_b${size}`);
    const f = await freshness(run, capture, pgSchema, size);
    fresh.push(f);
    run.log(
      `freshness, batch ${size}: ${f.events} events at ${fmtRate(f.writtenPerSecond)}/s, ` +
        `p50 ${fmt(f.p50, 1)} ms, p99 ${fmt(f.p99, 1)} ms`,
    );
  }
  return fresh;
}
