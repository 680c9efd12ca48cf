import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { MongoSink, type MongoSinkOptions } from '../../services/sink-mongo/src/mongo-sink.ts';
import { mongoSinkOptionsFromConfig } from '../../services/sink-mongo/src/mongo-sink-config.ts';
import {
  databaseFromUrl,
  redactMongoUrl,
  resolveMongoSinkOptions,
} from '../../services/sink-mongo/src/mongo-sink-options.ts';

const url = 'mongodb://127.0.0.1:27017/cdc';

test('defaults: database cdc, name mongo, offsets in cdc_offsets, no transactions', () => {
  const resolved = resolveMongoSinkOptions({ url: 'mongodb://127.0.0.1:27017' });
  assert.equal(resolved.database, 'cdc');
  assert.equal(resolved.name, 'mongo');
  assert.equal(resolved.offsetsCollection, 'cdc_offsets');
  assert.equal(resolved.transactions, false);
  assert.deepEqual(resolved.collections, {});
  assert.equal(resolved.clientOptions.serverSelectionTimeoutMS, 10_000);
});

test('the database comes from the URL path', () => {
  assert.equal(databaseFromUrl('mongodb://h:1/shop?retryWrites=true'), 'shop');
  assert.equal(databaseFromUrl('mongodb://u:p@h1:1,h2:2/shop'), 'shop');
  assert.equal(databaseFromUrl('mongodb+srv://cluster.example.com/?tls=true'), undefined);
  assert.equal(databaseFromUrl('mongodb://h:1'), undefined);
  assert.equal(resolveMongoSinkOptions({ url: 'mongodb://h:1/shop' }).database, 'shop');
});

test('the password never appears in messages', () => {
  assert.equal(redactMongoUrl('mongodb://app:s3cret@h:1/db'), 'mongodb://app:***@h:1/db');
  assert.equal(redactMongoUrl('mongodb://h:1/db'), 'mongodb://h:1/db');
  assert.throws(
    () => new MongoSink({ url: 'mongodb://app:s3cret@h:1/db?authMechanism=NOPE' }),
    (err: unknown) => err instanceof ConfigError && !err.message.includes('s3cret'),
  );
});

test('invalid options are refused at construction', () => {
  const bad: Array<Partial<MongoSinkOptions>> = [
    { url: 'http://h/db' },
    { url: 'mongodb://h:1/bad.name' },
    { url, name: 'a/b' },
    { url, offsetsCollection: '' },
    { url, offsetsCollection: 'system.offsets' },
    { url, transactions: 'yes' as unknown as boolean },
    { url, serverSelectionTimeoutMS: -1 },
    { url, collections: { todo: { collection: 'a$b' } } },
    { url, collections: { todo: { fields: { name: '$name' } } } },
    { url, collections: { todo: { fields: { name: '_id' } } } },
    { url, collections: { todo: { uniqueIndexes: [{ fields: [] }] } } },
    { url, collections: { todo: { uniqueIndexes: [{ fields: ['a', 'a'] }] } } },
    { url, collections: [] as unknown as MongoSinkOptions['collections'] },
  ];
  for (const options of bad) {
    assert.throws(
      () => new MongoSink(options as MongoSinkOptions),
      ConfigError,
      JSON.stringify(options),
    );
  }
});

test('service options: URL and name from the environment, the rest from the sink section', () => {
  const sinks = {
    mongo: { collections: { todo: { collection: 'todos' } }, offsetsCollection: 'offsets' },
    'mongo-eu': { transactions: true, writeConcurrency: 2 },
  };
  assert.deepEqual(mongoSinkOptionsFromConfig({ MONGO_URL: 'mongodb://db:27017/app' }, { sinks }), {
    url: 'mongodb://db:27017/app',
    name: 'mongo',
    collections: { todo: { collection: 'todos' } },
    offsetsCollection: 'offsets',
    transactions: false,
    writeConcurrency: 4,
  });
  const eu = mongoSinkOptionsFromConfig({ SINK_NAME: 'mongo-eu' }, { sinks });
  assert.equal(eu.name, 'mongo-eu');
  assert.equal(eu.transactions, true);
  assert.equal(eu.writeConcurrency, 2);
  assert.equal(
    mongoSinkOptionsFromConfig({ SINK_NAME: 'mongo-eu', MONGO_WRITE_CONCURRENCY: '8' }, { sinks })
      .writeConcurrency,
    8,
  );
  assert.throws(
    () => mongoSinkOptionsFromConfig({ MONGO_WRITE_CONCURRENCY: '0' }, { sinks }),
    ConfigError,
  );
  assert.equal(eu.url, 'mongodb://127.0.0.1:27017/cdc');
  // Without its own section, a named sink uses the `mongo` one.
  assert.equal(
    mongoSinkOptionsFromConfig({ SINK_NAME: 'mongo-2' }, { sinks }).offsetsCollection,
    'offsets',
  );
  assert.equal(
    mongoSinkOptionsFromConfig({ MONGO_TRANSACTIONS: 'true' }, { sinks }).transactions,
    true,
  );
  assert.deepEqual(mongoSinkOptionsFromConfig({}, { sinks: {} }).name, 'mongo');
});

test('unknown keys in the sink section are refused', () => {
  assert.throws(
    () => mongoSinkOptionsFromConfig({}, { sinks: { mongo: { colections: {} } } }),
    ConfigError,
  );
  assert.throws(
    () => mongoSinkOptionsFromConfig({}, { sinks: { mongo: { url: 'mongodb://x' } } }),
    ConfigError,
  );
  assert.throws(() => mongoSinkOptionsFromConfig({}, { sinks: { mongo: [] } }), ConfigError);
});
