import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEntityOptions } from '../../runtime/capture/capture-options.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import type { Sink } from '../../runtime/sink/sink.ts';
import { resolveRunnerOptions } from '../../runtime/sink/sink-runner-options.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';

test('entity options get their documented defaults', () => {
  assert.deepEqual(resolveEntityOptions('todo', {}), {
    schema: undefined,
    partitions: 4,
    writeMode: 'behind',
    requiredSinks: undefined,
    keyField: 'id',
    waitForReplicas: undefined,
  });
});

test('bad entity options are configuration errors that name the setting', () => {
  assert.throws(() => resolveEntityOptions('9lives', {}), ConfigError);
  assert.throws(() => resolveEntityOptions('todo', { partitions: 0 }), /todo.partitions/);
  assert.throws(() => resolveEntityOptions('todo', { partitions: 2.5 }), /todo.partitions/);
  assert.throws(
    () => resolveEntityOptions('todo', { writeMode: 'sideways' as never }),
    /todo.writeMode/,
  );
  assert.throws(
    () => resolveEntityOptions('todo', { requiredSinks: ['bad name'] }),
    /requiredSinks/,
  );
});

const sink = (name: string) => ({ name }) as unknown as Sink;

test('runner options get their documented defaults and refuse nonsense', () => {
  const resolved = resolveRunnerOptions({ sink: sink('postgres') });
  assert.equal(resolved.batchSize, 1000);
  assert.equal(resolved.leaseMs, 10_000);
  assert.equal(resolved.maxDeliveries, 5);
  assert.match(resolved.consumer, /-\d+$/);
  assert.throws(() => resolveRunnerOptions({ sink: sink('postgres'), leaseMs: 100 }), /leaseMs/);
  assert.throws(() => resolveRunnerOptions({ sink: sink('postgres'), batchSize: 0 }), /batchSize/);
  assert.throws(() => resolveRunnerOptions({ sink: sink('bad name') }), ConfigError);
});

test('the PostgreSQL sink refuses a missing URL and identifiers that need quoting', () => {
  assert.throws(() => new PostgresSink({ url: '' }), ConfigError);
  assert.throws(() => new PostgresSink({ url: 'mysql://x' }), ConfigError);
  assert.throws(() => new PostgresSink({ url: 'postgres://u:p@h/db', schema: 'a;b' }), ConfigError);
  assert.throws(
    () => new PostgresSink({ url: 'postgres://u:p@h/db', offsetsTable: 'x y' }),
    ConfigError,
  );
  assert.equal(new PostgresSink({ url: 'postgres://u:p@h/db' }).name, 'postgres');
});
