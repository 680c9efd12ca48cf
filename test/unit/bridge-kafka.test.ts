import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { ChangeEvent } from '../../runtime/envelope.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { encodeKafkaMessage, kafkaChangeRecord } from '../../runtime/kafka/kafka-message.ts';
import { registerBridgeMetrics } from '../../services/bridge-kafka/src/bridge-metrics.ts';
import { kafkaBridgeOptionsFromConfig } from '../../services/bridge-kafka/src/kafka-bridge-config.ts';
import { resolveKafkaBridgeOptions } from '../../services/bridge-kafka/src/kafka-bridge-options.ts';
import {
  isProducerFenced,
  isTransientKafkaError,
} from '../../services/bridge-kafka/src/kafka-errors.ts';
import { kafkajsLogging } from '../../services/bridge-kafka/src/kafkajs-log.ts';
import { offsetRecord, parseOffsetRecord } from '../../services/bridge-kafka/src/offset-record.ts';
import { chunkMessages, messageBytes } from '../../services/bridge-kafka/src/request-chunks.ts';
import { transactionalId } from '../../services/bridge-kafka/src/transactional-id.ts';

const {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;

/** A protocol error as kafkajs builds it from a response's error code. */
function protocolError(type: string, code: number, retriable: boolean) {
  return new KafkaJSProtocolError({ type, code, retriable, message: type } as unknown as Error);
}

/** What kafkajs' retrier throws for an error it will not retry: the error as `cause`. */
function wrapped(error: Error) {
  // kafkajs' typings omit the constructor's second argument, which sets `cause`.
  return Object.assign(new KafkaJSNonRetriableError(error), { cause: error });
}

test('a fenced producer is told by protocol codes 47 and 90, also wrapped by kafkajs retries', () => {
  const epoch = protocolError('INVALID_PRODUCER_EPOCH', 47, false);
  assert.equal(isProducerFenced(epoch), true);
  assert.equal(isProducerFenced(protocolError('PRODUCER_FENCED', 90, false)), true);
  assert.equal(isProducerFenced(wrapped(epoch)), true);
  assert.equal(isProducerFenced(protocolError('CONCURRENT_TRANSACTIONS', 51, true)), false);
  assert.equal(isProducerFenced(new Error('INVALID_PRODUCER_EPOCH')), false, 'never by message');
});

test('transient Kafka errors: retriable flags, transaction states a new producer clears, exhausted retries', () => {
  assert.equal(isTransientKafkaError(new KafkaJSConnectionError('refused')), true);
  assert.equal(isTransientKafkaError(new KafkaJSRequestTimeoutError('no answer')), true);
  assert.equal(isTransientKafkaError(protocolError('LEADER_NOT_AVAILABLE', 5, true)), true);
  // Marked retriable false by kafkajs, cleared by a new producer (InitProducerId).
  assert.equal(isTransientKafkaError(protocolError('INVALID_PRODUCER_EPOCH', 47, false)), true);
  assert.equal(isTransientKafkaError(protocolError('INVALID_TXN_STATE', 48, false)), true);
  const concurrent = protocolError('CONCURRENT_TRANSACTIONS', 51, true);
  assert.equal(
    isTransientKafkaError(
      new KafkaJSNumberOfRetriesExceeded(concurrent, { retryCount: 8, retryTime: 1000 }),
    ),
    true,
  );
  // The record or the request is at fault: the runner isolates the event.
  assert.equal(isTransientKafkaError(protocolError('MESSAGE_TOO_LARGE', 10, false)), false);
  assert.equal(
    isTransientKafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED', 29, false)),
    false,
  );
  const tooLarge = protocolError('MESSAGE_TOO_LARGE', 10, false);
  assert.equal(isTransientKafkaError(wrapped(tooLarge)), false);
  assert.equal(isTransientKafkaError(new Error('connection refused')), false);
});

test('offset records are keyed <sink>/<entity>/<partition> and read back only for their sink', () => {
  const record = offsetRecord('kafka', 'todo', 3, '1700000000000-5');
  assert.equal(record.key, 'kafka/todo/3');
  assert.equal(record.value, '1700000000000-5');
  const key = Buffer.from(record.key as string);
  const value = Buffer.from(record.value as string);
  assert.deepEqual(parseOffsetRecord('kafka', key, value), {
    partition: 'todo/3',
    id: '1700000000000-5',
  });
  assert.equal(parseOffsetRecord('kafka2', key, value), undefined, "another bridge's");
  assert.equal(parseOffsetRecord('kafka', Buffer.from('kafka/.read-mark'), null), undefined);
  assert.equal(parseOffsetRecord('kafka', key, Buffer.from('not an id')), undefined);
});

test('transactional ids are derived from prefix, sink, entity and partition', () => {
  assert.equal(transactionalId('cdc', 'kafka', 'todo', 7), 'cdc/kafka/todo/7');
  assert.notEqual(
    transactionalId('cdc', 'kafka', 'todo', 1),
    transactionalId('cdc', 'kafka', 'todo', 11),
  );
});

test('a transaction is cut into requests under the byte budget, in order; a large record goes alone', () => {
  const message = (n: number, size: number) => ({
    key: `k${n}`,
    value: Buffer.alloc(size),
    headers: { 'cdc.op': Buffer.from('upsert') },
  });
  const messages = [message(1, 300), message(2, 300), message(3, 5000), message(4, 300)];
  const chunks = chunkMessages(messages, 1000);
  assert.deepEqual(
    chunks.map((chunk) => chunk.map((m) => m.key)),
    [['k1', 'k2'], ['k3'], ['k4']],
  );
  assert.ok(messageBytes(messages[0]!) > 300);
  assert.deepEqual(chunkMessages([], 1000), []);
});

test('bridge options: defaults, and a bad setting is a ConfigError naming it', () => {
  const resolved = resolveKafkaBridgeOptions({ kafka: { brokers: ['127.0.0.1:9092'] } });
  assert.equal(resolved.name, 'kafka');
  assert.equal(resolved.offsetsTopic, 'cdc.__bridge_offsets');
  assert.equal(resolved.transactionTimeoutMs, 30_000);
  assert.throws(
    () => resolveKafkaBridgeOptions({ kafka: { brokers: [] } }),
    (e: unknown) => e instanceof ConfigError && /broker/.test(e.message),
  );
  assert.throws(
    () => resolveKafkaBridgeOptions({ kafka: { brokers: ['b:9092'] }, transactionTimeoutMs: 5.5 }),
    /transactionTimeoutMs must be an integer/,
  );
  assert.throws(
    () => resolveKafkaBridgeOptions({ kafka: { brokers: ['b:9092'] }, name: '9lives' }),
    /BRIDGE_NAME/,
  );
  const config = { prefix: 'cdc', entities: {}, sinks: { orders: { transactionTimout: 1 } } };
  assert.throws(
    () => kafkaBridgeOptionsFromConfig({ BRIDGE_NAME: 'orders' }, config),
    /unknown bridge setting sinks\.orders\.transactionTimout/,
  );
  const options = kafkaBridgeOptionsFromConfig(
    { KAFKA_BROKERS: 'a:1,b:2' },
    { prefix: 'p', entities: {}, sinks: { kafka: { offsetsReplicationFactor: 3 } } },
  );
  assert.deepEqual(options.kafka.brokers, ['a:1', 'b:2']);
  assert.equal(options.prefix, 'p');
  assert.equal(options.offsetsReplicationFactor, 3);
});

test('bridge metrics: produced offsets per topic partition, transactions committed and aborted, fences', async () => {
  const instrumentation = new Instrumentation();
  const registry = new Registry();
  registerBridgeMetrics(instrumentation, registry);
  instrumentation.emit('bridge.produced', {
    sink: 'kafka',
    topic: 'cdc.todo',
    partition: 2,
    offset: '41',
    messages: 10,
  });
  instrumentation.emit('bridge.transaction.committed', {
    sink: 'kafka',
    entity: 'todo',
    partition: 0,
    messages: 10,
    durationMs: 12,
  });
  instrumentation.emit('bridge.transaction.aborted', {
    sink: 'kafka',
    entity: 'todo',
    partition: 0,
    error: new Error('x'),
  });
  instrumentation.emit('bridge.producer.fenced', { sink: 'kafka', entity: 'todo', partition: 0 });
  const text = await registry.metrics();
  assert.match(
    text,
    /cdc_bridge_produced_offset\{sink="kafka",topic="cdc.todo",partition="2"\} 41/,
  );
  assert.match(text, /cdc_bridge_records_produced_total\{sink="kafka",topic="cdc.todo"\} 10/);
  assert.match(text, /cdc_bridge_transactions_committed_total\{sink="kafka",entity="todo"\} 1/);
  assert.match(text, /cdc_bridge_transactions_aborted_total\{sink="kafka",entity="todo"\} 1/);
  assert.match(text, /cdc_bridge_producer_fenced_total\{sink="kafka",entity="todo"\} 1/);
});

test('kafkajs logs at DEBUG only when the bridge logger writes debug entries', () => {
  assert.deepEqual(kafkajsLogging(undefined), { logLevel: kafkajs.logLevel.NOTHING });
  assert.deepEqual(kafkajsLogging(pino({ level: 'info' }, { write: () => undefined })), {
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const debug = kafkajsLogging(pino({ level: 'debug' }, { write: () => undefined }));
  assert.equal(debug.logLevel, kafkajs.logLevel.DEBUG);
  assert.equal(typeof debug.logCreator, 'function');
});

test('records sent with key and headers as text carry the bytes of the encoded message', () => {
  const event: ChangeEvent = {
    id: '1700000000000-7',
    op: 'upsert',
    entity: 'todo',
    key: 'clé-ü-1',
    capturedAt: 1_700_000_000_123,
    schemaId: 9,
    payload: Buffer.from([1, 2, 3]),
    traceId: 't-1',
  };
  for (const e of [event, { ...event, op: 'delete' as const }]) {
    const text = kafkaChangeRecord(e, 5);
    const bytes = encodeKafkaMessage(e, 5);
    assert.deepEqual(Buffer.from(text.key), bytes.key);
    assert.deepEqual(text.value, bytes.value);
    assert.deepEqual(
      Object.keys(text.headers),
      Object.keys(bytes.headers),
      'same headers, same order',
    );
    for (const name of Object.keys(text.headers))
      assert.deepEqual(Buffer.from(text.headers[name]!), bytes.headers[name], name);
  }
});
