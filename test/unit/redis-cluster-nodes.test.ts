import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { redisFromEnv } from '../../runtime/config/env.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { parseClusterNodes } from '../../runtime/redis-cluster-nodes.ts';
import { connectRedis, connectRedisClient } from '../../runtime/redis-connection.ts';

describe('REDIS_CLUSTER_NODES', () => {
  test('a host:port list becomes seed nodes; rediss:// turns TLS on; IPv6 hosts come in brackets', () => {
    assert.deepEqual(parseClusterNodes(' 127.0.0.1:7000, redis-a:7001 ,'), {
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'redis-a', port: 7001 },
      ],
      tls: false,
    });
    assert.deepEqual(parseClusterNodes('rediss://a:6380,rediss://[::1]:6381'), {
      nodes: [
        { host: 'a', port: 6380 },
        { host: '::1', port: 6381 },
      ],
      tls: true,
    });
  });

  test('a bad list is a ConfigError naming the variable and the bad entry', () => {
    for (const [spec, entry] of [
      ['', ''],
      ['127.0.0.1', '127.0.0.1'],
      ['127.0.0.1:7000,host:0', 'host:0'],
      ['a:70000', 'a:70000'],
      ['user:pw@a:7000', 'user:pw@a:7000'],
      ['http://a:7000', 'http://a:7000'],
    ]) {
      assert.throws(
        () => parseClusterNodes(spec!),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.startsWith('REDIS_CLUSTER_NODES must') &&
          err.message.includes(entry!),
        spec,
      );
    }
    assert.throws(
      () => parseClusterNodes('redis://a:1,rediss://b:2'),
      /mixes redis:\/\/ and rediss:\/\//,
    );
  });

  test('redisFromEnv takes REDIS_CLUSTER_NODES over REDIS_URL and checks it before anything connects', () => {
    assert.deepEqual(
      redisFromEnv({
        REDIS_URL: 'redis://elsewhere:6379',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        REDIS_USERNAME: 'cdc-app',
        REDIS_PASSWORD: 'secret',
      }),
      { clusterNodes: '127.0.0.1:7000', username: 'cdc-app', password: 'secret' },
    );
    assert.deepEqual(redisFromEnv({}), { url: 'redis://127.0.0.1:6379' });
    assert.throws(() => redisFromEnv({ REDIS_CLUSTER_NODES: 'nonsense' }), ConfigError);
  });

  test('connectRedisClient opens a Cluster for cluster nodes and a Redis otherwise; connectRedis refuses cluster nodes', () => {
    const lazy = { options: { lazyConnect: true } };
    const cluster = connectRedisClient({
      ...lazy,
      clusterNodes: '127.0.0.1:7000',
      username: 'u',
      password: 'p',
      clusterOptions: { lazyConnect: true },
    });
    const server = connectRedisClient(lazy);
    try {
      assert.ok(cluster instanceof Cluster);
      assert.equal(cluster.options.redisOptions?.username, 'u');
      assert.equal(cluster.options.redisOptions?.password, 'p');
      assert.ok(server instanceof Redis);
    } finally {
      cluster.disconnect();
      server.disconnect();
    }
    assert.throws(
      () => connectRedis({ clusterNodes: '127.0.0.1:7000' }),
      (err: unknown) => err instanceof ConfigError && /one Redis server/.test(err.message),
    );
    assert.throws(
      () => connectRedisClient({ clusterNodes: [{ host: '', port: 7000 }] }),
      ConfigError,
    );
  });
});
