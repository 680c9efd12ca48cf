import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { partitionOf } from '../../runtime/partition.ts';
import { startClusterSinks } from '../support/cluster-sinks.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);
const PARTITIONS = 16;
const KEYS = 200;

/**
 * kill -9 of a Redis Cluster master while a PostgreSQL and a MongoDB sink apply a steady write
 * load (a cluster of the test's own: 3 masters, a replica each, cluster-node-timeout 1 s). The
 * sinks' reads of the dead master's partitions fail until its replica is promoted; then they
 * move to the new master and go on. Both targets end equal to the cache, key by key, after a
 * last round of writes made once the failover is over (a write the old master answered and
 * never replicated may have reached a sink before it was lost: the last round settles every
 * key on what the cluster holds).
 */
describe('sinks on a Redis Cluster: kill -9 of a master under load', { timeout: 300_000 }, () => {
  test('both sinks follow the promoted replica and converge on the cache', async (context) => {
    const { cluster, capture, postgresNames, mongoNames, close } = await startClusterSinks(
      'sinks_failover',
      PARTITIONS,
      1000,
    );
    try {
      let stop = false;
      let answered = 0;
      let refused = 0;
      let seq = 0;
      const writer = async (): Promise<void> => {
        while (!stop) {
          const n = seq++;
          const key = `k${n % KEYS}`;
          try {
            if (n % 17 === 0) await capture.delete('todo', key);
            else await capture.upsert('todo', { id: key, name: `v${n}` });
            answered++;
          } catch {
            refused++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const writers = Array.from({ length: 8 }, () => writer());
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const stream = capture.keys.stream('todo', partitionOf('k0', PARTITIONS));
      const slot = Number(
        (
          await run('redis-cli', ['-p', String(cluster.ports[0]), 'CLUSTER', 'KEYSLOT', stream])
        ).stdout.trim(),
      );
      const master = await cluster.masterOf(slot);
      const replica = await cluster.replicaOf(master);
      const beforeKill = answered;
      cluster.kill(master);
      await cluster.promoted(replica, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      stop = true;
      await Promise.all(writers);
      context.diagnostic(
        `${answered} writes answered (${answered - beforeKill} after the kill), ${refused} refused during the failover`,
      );
      assert.ok(answered - beforeKill > 0, 'writes resumed after the failover');
      // The last round, on the promoted cluster: every key ends on a value written now.
      for (let k = 0; k < KEYS; k++) {
        const key = `k${k}`;
        if (k % 5 === 0) await capture.delete('todo', key);
        else await capture.upsert('todo', { id: key, name: `final-${k}` });
      }
      const expected = new Map<string, string>();
      for (let k = 0; k < KEYS; k++) {
        const value = await capture.get('todo', `k${k}`);
        if (value) expected.set(`k${k}`, String(value.record.name));
      }
      assert.equal(expected.size, KEYS - KEYS / 5);
      const same = (actual: Map<string, string>): boolean =>
        actual.size === expected.size &&
        [...expected].every(([key, name]) => actual.get(key) === name);
      await waitFor(
        'PostgreSQL converged on the cache',
        async () => same(await postgresNames()),
        60_000,
      );
      await waitFor('MongoDB converged on the cache', async () => same(await mongoNames()), 60_000);
    } finally {
      await close();
    }
  });
});
