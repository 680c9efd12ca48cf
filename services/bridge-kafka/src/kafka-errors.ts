import kafkajs from 'kafkajs';

// kafkajs is CommonJS and spreads its error classes into its exports, which Node's ESM loader
// cannot see as named exports: they are read from the default export.
const {
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSTimeout,
} = kafkajs;

/**
 * Kafka protocol error codes (https://kafka.apache.org/protocol.html#protocol_error_codes) the
 * bridge decides on itself, by number: kafkajs 2.2.4 turns codes it does not know into one
 * "unknown" code, and its own `retriable` flag is wrong for these.
 */
export const KafkaErrorCode = {
  /** A newer producer with the same transactional id exists (or the broker expired this one). */
  InvalidProducerEpoch: 47,
  /** The transaction is not in a state that allows the request (e.g. after a failed commit). */
  InvalidTxnState: 48,
  /** The coordinator forgot this producer id (its transactional id expired). */
  InvalidProducerIdMapping: 49,
  /** The previous transaction of this transactional id is still being completed. */
  ConcurrentTransactions: 51,
  /** Brokers since 2.7 (KIP-588) answer newer clients this instead of code 47. */
  ProducerFenced: 90,
} as const;

/** A transaction-state code that a new producer (InitProducerId) clears, so trying again helps. */
const RECOVERED_BY_NEW_PRODUCER: ReadonlySet<number> = new Set([
  KafkaErrorCode.InvalidProducerEpoch,
  KafkaErrorCode.InvalidTxnState,
  KafkaErrorCode.InvalidProducerIdMapping,
  KafkaErrorCode.ConcurrentTransactions,
  KafkaErrorCode.ProducerFenced,
]);

/**
 * The error kafkajs failed on. Its retrier wraps the last error of an attempt it gave up on in
 * KafkaJSNumberOfRetriesExceeded, and an error it would not retry in KafkaJSNonRetriableError,
 * both with the original as `cause`.
 */
export function rootKafkaError(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    if (
      current instanceof KafkaJSNonRetriableError &&
      !(current instanceof KafkaJSProtocolError) &&
      current.cause instanceof Error &&
      current.cause !== current
    ) {
      current = current.cause;
      continue;
    }
    break;
  }
  return current;
}

/**
 * True when Kafka says this producer was fenced: another producer initialised the same
 * transactional id after it, so another instance owns the partition (or a former owner came
 * back). Read from the protocol code, never from the message.
 */
export function isProducerFenced(error: unknown): boolean {
  const root = rootKafkaError(error);
  return (
    root instanceof KafkaJSProtocolError &&
    (root.code === KafkaErrorCode.InvalidProducerEpoch ||
      root.code === KafkaErrorCode.ProducerFenced)
  );
}

/**
 * Whether a failed Kafka operation may succeed if tried again with a new producer: by kafkajs'
 * error classes and their `retriable` flag, never by message text.
 *
 * - the transaction-state codes above: yes (a new producer clears them; fencing is decided
 *   apart, see KafkaBridgeSink);
 * - retries kafkajs gave up on (KafkaJSNumberOfRetriesExceeded): yes, the error was retriable and
 *   the runner's own retrier waits longer;
 * - kafkajs' timeouts (a lock or a request that never got an answer): yes;
 * - any other kafkajs error: its `retriable` flag (connection errors, leader elections and
 *   coordinator moves say yes; a record too large, an invalid record, a missing authorisation
 *   say no, and the runner isolates the event at fault).
 */
export function isTransientKafkaError(error: unknown): boolean {
  if (error instanceof KafkaJSNumberOfRetriesExceeded) return true;
  const root = rootKafkaError(error);
  if (root instanceof KafkaJSProtocolError && RECOVERED_BY_NEW_PRODUCER.has(root.code)) return true;
  if (root instanceof KafkaJSTimeout) return true;
  if (root instanceof KafkaJSError) return root.retriable;
  return false;
}
