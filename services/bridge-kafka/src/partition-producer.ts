import kafkajs, {
  type Kafka,
  type Producer,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';

/** How a partition's producer is set up. */
export interface PartitionProducerOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** First wait of kafkajs' own retries, ms (see KafkaBridgeOptions.producerRetryInitialMs). */
  retryInitialMs: number;
}

/**
 * The transactional producer of one source partition. `start` initialises its transactional id
 * (InitProducerId), which fences every earlier producer of the id and makes the coordinator
 * finish or abort the transaction such a producer left open. `transact` sends records and
 * commits them as one transaction.
 *
 * Set up as kafkajs' idempotent producer must be to keep its guarantees: one request in flight
 * and each send awaited (kafkajs #1005 loses messages otherwise). A producer whose transaction
 * failed is not used again: the caller discards it, and starts a new one only after checking it
 * still holds the partition.
 */
export class PartitionProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, options: PartitionProducerOptions) {
    this.producer = kafka.producer({
      transactionalId: options.transactionalId,
      transactionTimeout: options.transactionTimeoutMs,
      idempotent: true,
      maxInFlightRequests: 1,
      // The partitioner the Java client uses (murmur2 of the key), so every Kafka client
      // agrees where a key lives.
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      // A few quick retries (CONCURRENT_TRANSACTIONS right after a commit passes within
      // milliseconds); past them the error reaches the sink runner, which waits longer.
      retry: { initialRetryTime: options.retryInitialMs, retries: 8, maxRetryTime: 2000 },
    });
  }

  /**
   * Connects and initialises the transactional id. kafkajs does that on the first transaction,
   * so one is begun and ended at once (with nothing in it, ending it sends nothing).
   */
  async start(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
    const transaction = await this.producer.transaction();
    await transaction.abort();
  }

  /**
   * Sends the requests one after the other (each awaited: one in flight) and commits them as one
   * transaction; returns what each request appended. On failure the transaction is aborted if
   * that can still be done (otherwise the coordinator aborts it when the next producer of this
   * id starts, or at the transaction timeout) and the error is rethrown.
   */
  async transact(requests: readonly TopicMessages[][]): Promise<RecordMetadata[][]> {
    const transaction = await this.producer.transaction();
    try {
      const written: RecordMetadata[][] = [];
      for (const topicMessages of requests)
        written.push(await transaction.sendBatch({ topicMessages, acks: -1 }));
      await transaction.commit();
      return written;
    } catch (error) {
      if (transaction.isActive()) await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect().catch(() => undefined);
  }
}
