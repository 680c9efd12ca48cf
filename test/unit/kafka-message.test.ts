import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent } from '../../runtime/envelope.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import { decodeConfluentValue, encodeConfluentValue } from '../../runtime/kafka/confluent-wire.ts';
import {
  decodeKafkaMessage,
  encodeKafkaMessage,
  KAFKA_HEADER,
} from '../../runtime/kafka/kafka-message.ts';

const upsert: ChangeEvent = {
  id: '1700000000000-3',
  op: 'upsert',
  entity: 'todo',
  key: 'café',
  schemaId: 258,
  payload: Buffer.from([2, 0x61, 1]),
  capturedAt: 1700000000000,
  traceId: 'tr-1',
};

test('the Confluent wire format is magic 0, a big-endian 4-byte schema id, then the Avro bytes', () => {
  const value = encodeConfluentValue(258, Buffer.from([9, 8]));
  assert.deepEqual([...value], [0, 0, 0, 1, 2, 9, 8]);
  assert.deepEqual(decodeConfluentValue(value), { schemaId: 258, avro: Buffer.from([9, 8]) });
  assert.throws(() => decodeConfluentValue(Buffer.from([1, 0, 0, 0, 1])), EnvelopeError);
  assert.throws(() => decodeConfluentValue(Buffer.from([0, 0])), EnvelopeError);
  assert.throws(() => encodeConfluentValue(-1, Buffer.alloc(0)), RangeError);
});

test('an upsert round-trips through a Kafka message keyed by its entity key', () => {
  const message = encodeKafkaMessage(upsert, 3);
  assert.equal(message.key.toString(), 'café');
  assert.equal(message.headers[KAFKA_HEADER.partition]?.toString(), '3');
  assert.equal(message.headers[KAFKA_HEADER.idempotencyKey], undefined);
  const { event, partition } = decodeKafkaMessage(message);
  assert.equal(partition, 3);
  assert.deepEqual(event, upsert);
});

test('a delete is a tombstone with the same headers', () => {
  const del: ChangeEvent = { id: '5-0', op: 'delete', entity: 'todo', key: 'k', capturedAt: 5 };
  const message = encodeKafkaMessage(del, 0);
  assert.equal(message.value, null);
  assert.deepEqual(decodeKafkaMessage(message).event, del);
});

test('headers as text or as lists (as clients hand them over) decode the same', () => {
  const message = encodeKafkaMessage(upsert, 1);
  const headers = Object.fromEntries(
    Object.entries(message.headers).map(([k, v]) => [k, [v.toString()]]),
  );
  assert.deepEqual(decodeKafkaMessage({ ...message, headers }).event, upsert);
});

test('a message that is not a change event is refused with what is wrong', () => {
  const good = encodeKafkaMessage(upsert, 1);
  const without = (name: string) => {
    const { [name]: _, ...headers } = good.headers;
    return { ...good, headers };
  };
  assert.throws(() => decodeKafkaMessage(without(KAFKA_HEADER.op)), /no cdc.op header/);
  assert.throws(() => decodeKafkaMessage(without(KAFKA_HEADER.streamId)), /cdc.stream_id/);
  assert.throws(
    () =>
      decodeKafkaMessage({
        ...good,
        headers: { ...good.headers, [KAFKA_HEADER.streamId]: Buffer.from('x') },
      }),
    /bad cdc.stream_id/,
  );
  assert.throws(() => decodeKafkaMessage({ ...good, value: null }), /has no value/);
  assert.throws(
    () => decodeKafkaMessage({ ...good, value: Buffer.from('{"json":true}') }),
    /not a Confluent wire-format value/,
  );
});
