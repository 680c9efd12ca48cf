import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Consumer } from 'kafkajs';
import { KAFKA_HEADER } from '../../runtime/kafka/kafka-message.ts';
import { benchTodo } from '../support/todo-record.ts';
import type { Backlog } from './backlog.ts';
import { type BenchRun, createRunTopic, ENTITY } from './bench-run.ts';
import { spawnBridge, waitCaughtUp } from './bridge-drain.ts';

/** Writes happen every TICK_MS, rate × TICK_MS / 1000 events at a time. */
const TICK_MS = 20;
/** Header of the raw baseline's records: when they were sent, ms since the epoch. */
const SENT_AT = 'bench.sent_at';

/** Latencies of one path, ms, sorted. */
export interface Latencies {
  sorted: number[];
  expected: number;
}

/**
 * A read_committed consumer of `topic` from its end, which calls `onRecord` with the latency of
 * each record (now minus the time `stamp` reads from it). Resolves once it has joined its group.
 */
async function latencyConsumer(
  run: BenchRun,
  topic: string,
  stamp: (headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>) => number,
  onRecord: (ms: number) => void,
): Promise<Consumer> {
  const consumer = run.kafka.consumer({
    groupId: `${run.prefix}.latency-${randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
  const joined = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
  );
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) onRecord(now - stamp(message.headers ?? {}));
    },
  });
  await joined;
  // A new group starts at the end the coordinator saw when it joined: give it that moment.
  await sleep(1000);
  return consumer;
}

/** Runs `tick` every TICK_MS for `seconds`, at the same cadence whatever a tick costs. */
async function paced(seconds: number, tick: (i: number) => Promise<void>): Promise<number> {
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  const start = performance.now();
  for (let i = 0; i < ticks; i++) {
    await tick(i);
    const next = start + (i + 1) * TICK_MS;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return ticks;
}

async function collect(latencies: number[], expected: number, what: string): Promise<Latencies> {
  const deadline = Date.now() + 60_000;
  while (latencies.length < expected && Date.now() < deadline) await sleep(50);
  if (latencies.length < expected)
    throw new Error(`${what}: ${latencies.length} of ${expected} records consumed`);
  return { sorted: [...latencies].sort((a, b) => a - b), expected };
}

/**
 * Capture to a read_committed consumer through the bridge at `rate` events/s: the bridge service
 * runs (caught up with the backlog first), capture writes upserts every 20 ms, the consumer
 * measures each record's age from its `cdc.captured_at` header.
 */
export async function bridgeLatency(run: BenchRun, backlog: Backlog): Promise<Latencies> {
  const name = 'kafka_latency';
  const child = spawnBridge(run, name, run.options.batch);
  try {
    await child.started;
    await waitCaughtUp(run, name, backlog.heads, child);
    const latencies: number[] = [];
    const consumer = await latencyConsumer(
      run,
      `${run.prefix}.${ENTITY}`,
      (headers) => Number(headers[KAFKA_HEADER.capturedAt]?.toString()),
      (ms) => latencies.push(ms),
    );
    try {
      const perTick = Math.max(1, Math.round((run.options.rate * TICK_MS) / 1000));
      const ticks = await paced(run.options.seconds, (i) =>
        run.capture
          .writeMany(
            ENTITY,
            Array.from({ length: perTick }, (_, j) => ({
              op: 'upsert' as const,
              record: benchTodo(i * perTick + j, (i * perTick + j) % run.options.keys),
            })),
          )
          .then(() => undefined),
      );
      return await collect(latencies, ticks * perTick, 'bridge latency');
    } finally {
      await consumer.disconnect();
    }
  } finally {
    try {
      await child.stop();
    } finally {
      run.children.delete(child);
    }
  }
}

/**
 * The baseline: an idempotent kafkajs producer sends the same number of records at the same
 * cadence straight to a topic, each stamped when sent; the same consumer measures their age.
 */
export async function rawLatency(run: BenchRun, backlog: Backlog): Promise<Latencies> {
  const topic = await createRunTopic(run, 'raw-latency');
  const records = backlog.applies.flat(2);
  const producer = run.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const latencies: number[] = [];
  const consumer = await latencyConsumer(
    run,
    topic,
    (headers) => Number(headers[SENT_AT]?.toString()),
    (ms) => latencies.push(ms),
  );
  try {
    const perTick = Math.max(1, Math.round((run.options.rate * TICK_MS) / 1000));
    const ticks = await paced(run.options.seconds, async (i) => {
      const sentAt = String(Date.now());
      const messages = Array.from({ length: perTick }, (_, j) => {
        const record = records[(i * perTick + j) % records.length]!;
        return { ...record, headers: { ...record.headers, [SENT_AT]: sentAt } };
      });
      await producer.send({ topic, messages, acks: -1 });
    });
    return await collect(latencies, ticks * perTick, 'raw latency');
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}
