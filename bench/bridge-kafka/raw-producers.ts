import kafkajs, { type Producer } from 'kafkajs';
import type { Backlog } from './backlog.ts';
import type { BenchRun } from './bench-run.ts';

/**
 * The same settings as the bridge's producers (partition-producer.ts): one request in flight,
 * each send awaited (kafkajs #1005), kafkajs' retries starting at 10 ms.
 */
function producer(run: BenchRun, transactionalId?: string): Producer {
  return run.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 10, retries: 8, maxRetryTime: 2000 },
    ...(transactionalId ? { transactionalId } : {}),
  });
}

/** ms to send the backlog with an idempotent producer, no transactions: one send per apply. */
export async function rawIdempotent(
  run: BenchRun,
  backlog: Backlog,
  topic: string,
): Promise<number> {
  const raw = producer(run);
  await raw.connect();
  try {
    const started = performance.now();
    for (const apply of backlog.applies)
      await raw.sendBatch({ topicMessages: [{ topic, messages: apply.flat() }], acks: -1 });
    return performance.now() - started;
  } finally {
    await raw.disconnect();
  }
}

/**
 * ms to send the backlog with one transactional producer, one transaction per partition batch of
 * the bridge (the records the bridge commits in one transaction of one partition's producer), one
 * after the other: the baseline, "transactional with transactions of the bridge's size".
 */
export async function rawTransactionalBridgeSized(
  run: BenchRun,
  backlog: Backlog,
  topic: string,
  id: string,
): Promise<number> {
  const raw = producer(run, `${run.prefix}/raw-bs/${id}`);
  await raw.connect();
  try {
    await (await raw.transaction()).abort();
    const started = performance.now();
    for (const apply of backlog.applies)
      for (const messages of apply) {
        const transaction = await raw.transaction();
        await transaction.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
        await transaction.commit();
      }
    return performance.now() - started;
  } finally {
    await raw.disconnect();
  }
}

/**
 * ms to send the backlog with one transactional producer, one transaction per apply of the
 * bridge (all the records the bridge commits in one apply, over all its partitions: transactions
 * `partitions` times the bridge's), one after the other. Stricter than the bridge-sized baseline:
 * fewer, larger transactions.
 */
export async function rawTransactionalPerApply(
  run: BenchRun,
  backlog: Backlog,
  topic: string,
  id: string,
): Promise<number> {
  const raw = producer(run, `${run.prefix}/raw/${id}`);
  await raw.connect();
  try {
    await (await raw.transaction()).abort();
    const started = performance.now();
    for (const apply of backlog.applies) {
      const transaction = await raw.transaction();
      await transaction.sendBatch({ topicMessages: [{ topic, messages: apply.flat() }], acks: -1 });
      await transaction.commit();
    }
    return performance.now() - started;
  } finally {
    await raw.disconnect();
  }
}

/**
 * ms to send the backlog as the bridge does, without Redis or offsets: one transactional
 * producer per partition, each apply's partition transactions in parallel.
 */
export async function rawTransactionalPerPartition(
  run: BenchRun,
  backlog: Backlog,
  topic: string,
  id: string,
): Promise<number> {
  const producers = Array.from({ length: run.options.partitions }, (_, p) =>
    producer(run, `${run.prefix}/raw-pp/${id}/${p}`),
  );
  await Promise.all(
    producers.map(async (p) => {
      await p.connect();
      await (await p.transaction()).abort();
    }),
  );
  try {
    const started = performance.now();
    for (const apply of backlog.applies)
      await Promise.all(
        apply.map(async (messages, i) => {
          const transaction = await producers[i]!.transaction();
          await transaction.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
          await transaction.commit();
        }),
      );
    return performance.now() - started;
  } finally {
    await Promise.all(producers.map((p) => p.disconnect()));
  }
}
