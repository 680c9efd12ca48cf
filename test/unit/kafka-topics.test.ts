import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { resolveKafkaTopics, valueSubject } from '../../runtime/kafka/kafka-topics.ts';

const entities = new Map([
  ['todo', { partitions: 4 }],
  ['user', { partitions: 8 }],
]);

test('every entity gets a topic: <prefix>.<entity> with its own partition count unless configured', () => {
  const topics = resolveKafkaTopics(
    { topics: { user: { topic: 'users', partitions: 6, replicationFactor: 3, compact: true } } },
    'cdc',
    entities,
  );
  assert.deepEqual(topics.get('todo'), {
    topic: 'cdc.todo',
    partitions: 4,
    replicationFactor: 1,
    compact: false,
  });
  assert.deepEqual(topics.get('user'), {
    topic: 'users',
    partitions: 6,
    replicationFactor: 3,
    compact: true,
  });
  assert.equal(valueSubject('users'), 'users-value');
  assert.equal(resolveKafkaTopics(undefined, 'p', entities).get('user')?.topic, 'p.user');
});

test('bad bridge topic settings are configuration errors that name the setting', () => {
  const bad = (topics: unknown) => () => resolveKafkaTopics({ topics }, 'cdc', entities);
  assert.throws(bad([]), ConfigError);
  assert.throws(bad({ order: {} }), /topics.order names an unknown entity/);
  assert.throws(bad({ todo: { topic: 'a/b' } }), /topics.todo.topic/);
  assert.throws(bad({ todo: { topic: '..' } }), /topics.todo.topic/);
  assert.throws(bad({ todo: { partitions: 0 } }), /topics.todo.partitions/);
  assert.throws(bad({ todo: { replicationFactor: 1.5 } }), /topics.todo.replicationFactor/);
  assert.throws(bad({ todo: { compact: 'yes' } }), /topics.todo.compact/);
  assert.throws(
    bad({ todo: { topic: 'same' }, user: { topic: 'same' } }),
    /cannot share the topic same/,
  );
});
