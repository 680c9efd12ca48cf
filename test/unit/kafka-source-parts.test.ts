import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import { encodeKafkaMessage } from '../../runtime/kafka/kafka-message.ts';
import { versionInFields } from '../../runtime/sink/source/event-source.ts';
import { nextOffsetAfter, positionAfter } from '../../runtime/sink/source/kafka-position.ts';
import { KafkaRead } from '../../runtime/sink/source/kafka-read.ts';
import { sinkSourceFromEnv } from '../../runtime/sink/source/sink-source-env.ts';
import { resolveSourceOptions } from '../../runtime/sink/source/sink-source-options.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';

function message(
  offset: number,
  m: { key: Buffer; value: Buffer | null; headers: Record<string, Buffer> },
): KafkaMessage {
  return { ...m, offset: String(offset), timestamp: '0', attributes: 0 };
}

test('a message at offset o is at position <o+1>-0: offset 0 is above nothing-applied, order is offset order', () => {
  assert.equal(positionAfter('0'), '1-0');
  assert.ok(compareStreamIds(positionAfter(0n), '0-0') > 0);
  assert.ok(compareStreamIds(positionAfter(9n), positionAfter(10n)) < 0);
  assert.equal(nextOffsetAfter('0-0'), 0n);
  assert.equal(nextOffsetAfter(positionAfter(41n)), 42n);
  // Beyond 2^53: offsets are 64-bit.
  assert.equal(nextOffsetAfter(positionAfter('9007199254740993')), 9007199254740994n);
});

test('a Kafka read gives positions as ids, the captured stream id as the version, and fields a re-drive decodes', () => {
  const event = {
    id: '1700000000000-7',
    op: 'upsert' as const,
    entity: 'todo',
    key: 'k1',
    schemaId: 3,
    payload: Buffer.from([2, 0x61]),
    capturedAt: 1700000000000,
  };
  const read = new KafkaRead({ entity: 'todo', partition: 2 }, 'cdc.todo', 2, [
    message(41, encodeKafkaMessage(event, 1)),
  ]);
  assert.deepEqual(read.ids, ['42-0']);
  assert.equal(read.deleted(), false);
  assert.deepEqual(read.envelope(0), event);
  assert.equal(read.rawKey(0), 'k1');
  const fields = read.fields(0);
  assert.equal(versionInFields(fields), event.id);
  assert.deepEqual(decodeEnvelope(event.id, fields), event);
});

test("a message that is not a change event of the topic's entity is refused, and its dead letter keeps what Kafka delivered", () => {
  const other = encodeKafkaMessage(
    { id: '1-0', op: 'delete', entity: 'user', key: 'u', capturedAt: 1 },
    0,
  );
  const garbage = { key: Buffer.from('g'), value: Buffer.from('x'), headers: {} };
  const read = new KafkaRead({ entity: 'todo', partition: 0 }, 'cdc.todo', 0, [
    message(0, other),
    message(1, garbage),
  ]);
  assert.throws(
    () => read.envelope(0),
    (e: unknown) => e instanceof EnvelopeError && /entity user in cdc.todo/.test(e.message),
  );
  assert.throws(() => read.envelope(1), EnvelopeError);
  assert.equal(read.rawKey(1), 'g');
  const fields = read.fields(1).map((f) => f.toString());
  assert.deepEqual(fields, [
    'kafka.topic',
    'cdc.todo',
    'kafka.partition',
    '0',
    'kafka.offset',
    '1',
    'kafka.key',
    'g',
    'kafka.value',
    'x',
  ]);
});

test('SINK_SOURCE chooses the source; Kafka settings are checked at the boundary', () => {
  assert.deepEqual(sinkSourceFromEnv({}, 'pg'), { kind: 'streams' });
  const kafka = sinkSourceFromEnv(
    {
      SINK_SOURCE: 'kafka',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      SINK_KAFKA_TOPICS: 'todo=todos, user = users',
    },
    'pg',
  );
  assert.equal(kafka.kind, 'kafka');
  if (kafka.kind !== 'kafka') return;
  assert.deepEqual(kafka.kafka.brokers, ['k1:9092', 'k2:9092']);
  assert.equal(kafka.kafka.clientId, 'cdc-sink-pg');
  assert.deepEqual(kafka.topics, { todo: 'todos', user: 'users' });
  assert.throws(() => sinkSourceFromEnv({ SINK_SOURCE: 'files' }, 'pg'), ConfigError);
  assert.throws(
    () => sinkSourceFromEnv({ SINK_SOURCE: 'kafka', SINK_KAFKA_TOPICS: 'todo' }, 'pg'),
    ConfigError,
  );
  const resolved = resolveSourceOptions(kafka, 2000);
  assert.equal(resolved.kind === 'kafka' && resolved.bufferPerPartition, 2000);
  assert.throws(
    () => resolveSourceOptions({ kind: 'kafka', kafka: { brokers: [] } }, 1),
    ConfigError,
  );
  assert.throws(
    () =>
      resolveSourceOptions(
        { kind: 'kafka', kafka: { brokers: ['b:1'] }, topics: { todo: 'no spaces' } },
        1,
      ),
    ConfigError,
  );
});
