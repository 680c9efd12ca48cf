import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withDeadline } from '../helpers/deadline.ts';
import { createTestKafka, KAFKA_BROKER_LINES } from '../helpers/kafka.ts';

interface Received {
  key: string | undefined;
  value: string | undefined;
  partition: number;
  offset: string;
}

describe('kafka smoke', { timeout: 120_000 }, () => {
  for (const line of KAFKA_BROKER_LINES) {
    test(`${line.name}: messages produced to a new topic are consumed in order with their keys`, async () => {
      // Made inside the test, not in a before hook: Node 20 reports a failed hook as cancelled
      // tests rather than failed ones, and an unreachable server must count as a failure.
      const t = await createTestKafka('smoke_kafka', { line });
      try {
        const topic = await t.createTopic('events');
        const sent = [
          { key: 'todo:1', value: '{"op":"upsert","n":1}' },
          { key: 'todo:2', value: '{"op":"upsert","n":2}' },
          { key: 'todo:1', value: '{"op":"delete"}' },
        ];

        const producer = t.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        const consumer = t.kafka.consumer({ groupId: `${t.topicPrefix}group` });
        try {
          await producer.connect();
          await producer.send({ topic, acks: -1, messages: sent });

          const received: Received[] = [];
          let done: () => void = () => undefined;
          const allReceived = new Promise<void>((resolve) => {
            done = resolve;
          });
          await consumer.connect();
          await consumer.subscribe({ topic, fromBeginning: true });
          await consumer.run({
            eachMessage: async ({ partition, message }) => {
              received.push({
                key: message.key?.toString(),
                value: message.value?.toString(),
                partition,
                offset: message.offset,
              });
              if (received.length >= sent.length) done();
            },
          });
          await withDeadline(
            allReceived,
            60_000,
            `consuming ${sent.length} messages from ${topic}`,
          );

          assert.deepEqual(
            received,
            sent.map((message, index) => ({ ...message, partition: 0, offset: String(index) })),
          );
        } finally {
          await consumer.disconnect();
          await producer.disconnect();
        }
      } finally {
        await t.cleanup();
      }
    });
  }
});
