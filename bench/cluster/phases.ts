import { setTimeout as sleep } from 'node:timers/promises';
import { type BatchWrite, createCapture } from '../../runtime/capture/capture.ts';
import { Keys } from '../../runtime/keys.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { RedisConnectionOptions } from '../../runtime/redis-connection.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';
import { cpuSince, type RedisCpu, redisCommands, redisCpu } from './redis-nodes.ts';

/** The entity both sides write and drain (schemas/todo.avsc). */
export const ENTITY = 'todo';
/** Partition streams of the entity: enough that every master of the cluster holds several. */
export const PARTITIONS = 16;
/** The sink's name: its consumer group, watermarks and offsets rows. */
export const SINK_NAME = 'bench-pg';
/** How often the drain's watermarks are read, ms: the precision of the drain's end. */
const POLL_MS = 10;
/** Longest a drain may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 300_000;
/** How long a sink read waits for new entries, ms, as the other sink benchmarks run it. */
const BLOCK_MS = 100;

/** One side of the comparison: how capture and the runner reach its Redis. */
export interface Side {
  name: 'single' | 'cluster';
  connection: RedisConnectionOptions;
  /** A connection of the benchmark's own, for setup, watermarks, CPU readings and cleanup. */
  admin: RedisClient;
}

/** What a phase used besides time: CPU of this process and of the Redis servers, µs. */
export interface PhaseCost {
  eventsPerSecond: number;
  ms: number;
  /** This process (capture, or the runner and PostgresSink), µs per event. */
  processMicrosPerEvent: number;
  /** The server or the cluster's masters, µs per event. */
  redisMicrosPerEvent: number;
  /** The cluster's replicas, µs per event (0 on one server). */
  replicaMicrosPerEvent: number;
}

/**
 * The writes of a round, in `writeMany` calls of `chunk`: the same seeded keys on both sides,
 * built before any clock starts so that both time capture and not the making of records.
 */
export function buildChunks(events: number, keys: number, chunk: number): BatchWrite[][] {
  const random = seeded(0x5eed);
  const chunks: BatchWrite[][] = [];
  for (let from = 0; from < events; from += chunk) {
    const writes: BatchWrite[] = [];
    for (let i = from; i < Math.min(events, from + chunk); i++) {
      writes.push({ op: 'upsert', record: benchTodo(i, Math.floor(random() * keys)) });
    }
    chunks.push(writes);
  }
  return chunks;
}

/** Distinct keys among the writes: the rows a drained table must hold. */
export function distinctKeys(chunks: readonly BatchWrite[][]): number {
  const seen = new Set<unknown>();
  for (const writes of chunks)
    for (const write of writes)
      if (write.op === 'upsert') seen.add((write.record as { id: unknown }).id);
  return seen.size;
}

/** Commands the servers ran during a phase, per 1000 events, by name. */
export type CommandCounts = Record<string, number>;

/** Runs `work` and measures it: time, this process's CPU, the servers' CPU and commands. */
async function measured<T>(
  side: Side,
  events: number,
  work: () => Promise<T>,
): Promise<{ cost: PhaseCost; commands: CommandCounts; value: T }> {
  const commandsBefore = await redisCommands(side.admin);
  const redisBefore = await redisCpu(side.admin);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const redis: RedisCpu = cpuSince(redisBefore, await redisCpu(side.admin));
  const commands: CommandCounts = {};
  for (const [name, calls] of await redisCommands(side.admin)) {
    const ran = calls - (commandsBefore.get(name) ?? 0);
    // The readings' own INFO calls are not the phase's.
    if (ran > 0 && name !== 'info') commands[name] = (ran * 1000) / events;
  }
  return {
    value,
    commands,
    cost: {
      eventsPerSecond: events / (ms / 1000),
      ms,
      processMicrosPerEvent: (cpu.user + cpu.system) / events,
      redisMicrosPerEvent: redis.masters / events,
      replicaMicrosPerEvent: redis.replicas / events,
    },
  };
}

/**
 * Writes the round's chunks with `capture.writeMany`, one call after the other, on a capture of
 * its own under `prefix` (opened and closed outside the clock). Returns the rate and the last id
 * of every partition stream, which the drain must reach.
 */
export async function capturePhase(
  side: Side,
  schema: AvroSchema,
  prefix: string,
  chunks: readonly BatchWrite[][],
): Promise<{ cost: PhaseCost; commands: CommandCounts; lastIds: Map<number, string> }> {
  const events = chunks.reduce((n, c) => n + c.length, 0);
  const capture = await createCapture({
    redis: side.connection,
    prefix,
    entities: { [ENTITY]: { schema, partitions: PARTITIONS } },
  });
  try {
    const { cost, commands } = await measured(side, events, async () => {
      for (const writes of chunks) await capture.writeMany(ENTITY, writes);
    });
    const keys = new Keys(prefix);
    const lastIds = new Map<number, string>();
    let written = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const stream = keys.stream(ENTITY, p);
      const last = await side.admin.xrevrange(stream, '+', '-', 'COUNT', 1);
      written += await side.admin.xlen(stream);
      if (last[0]) lastIds.set(p, last[0][0]);
    }
    if (written !== events) {
      throw new Error(`${side.name}: the streams hold ${written} entries, ${events} were written`);
    }
    return { cost, commands, lastIds };
  } finally {
    await capture.close();
  }
}

/**
 * Drains what `capturePhase` wrote into `pgSchema` with a SinkRunner and a PostgresSink in this
 * process, timed from calling `start()` until every partition's applied watermark equals its
 * stream's last id. The start (connections, the table, the leases) is inside the clock, as it is
 * part of what a cluster changes; `startMs` says how much of it it was.
 */
export async function drainPhase(
  side: Side,
  postgresUrl: string,
  pgSchema: string,
  prefix: string,
  batchSize: number,
  lastIds: ReadonlyMap<number, string>,
  events: number,
): Promise<{ cost: PhaseCost; commands: CommandCounts; startMs: number }> {
  const runner = new SinkRunner({
    sink: new PostgresSink({ url: postgresUrl, schema: pgSchema, name: SINK_NAME }),
    redis: side.connection,
    prefix,
    consumer: `${SINK_NAME}-1`,
    entities: [ENTITY],
    batchSize,
    blockMs: BLOCK_MS,
    // Trimming is housekeeping that may or may not fall inside a drain: off on both sides.
    retention: { intervalMs: 0 },
  });
  const keys = new Keys(prefix);
  try {
    const { cost, commands, value } = await measured(side, events, async () => {
      const began = performance.now();
      await runner.start();
      const startMs = performance.now() - began;
      const polled = await untilApplied(side.admin, keys, lastIds);
      return { startMs, polled };
    });
    // The watermark polls are this benchmark's GETs, not the sink's (whose scripts GET too).
    const gets = (commands.get ?? 0) - (value.polled * 1000) / events;
    if (gets > 0) commands.get = gets;
    else delete commands.get;
    return { cost, commands, startMs: value.startMs };
  } finally {
    await runner.stop();
  }
}

/**
 * Reads the applied watermarks every POLL_MS until each partition's is its stream's last id. A
 * poll rather than the announcements on the watermark channel, so that both sides end on the same
 * kind of signal (a cluster broadcasts announcements to every node, one server does not).
 * Returns how many GETs it sent.
 */
async function untilApplied(
  admin: RedisClient,
  keys: Keys,
  lastIds: ReadonlyMap<number, string>,
): Promise<number> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  const left = new Map(lastIds);
  let sent = 0;
  while (left.size > 0) {
    const partitions = [...left.keys()];
    sent += partitions.length;
    const marks = await Promise.all(
      partitions.map((p) => admin.get(keys.watermark(ENTITY, p, SINK_NAME))),
    );
    partitions.forEach((p, i) => {
      const mark = marks[i];
      if (mark && compareStreamIds(mark, left.get(p)!) >= 0) left.delete(p);
    });
    if (left.size === 0) break;
    if (performance.now() > deadline) {
      throw new Error(
        `the sink did not reach the last ids of partitions ${[...left.keys()].join(', ')} ` +
          `within ${DRAIN_TIMEOUT_MS} ms`,
      );
    }
    await sleep(POLL_MS);
  }
  return sent;
}
