import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import keySlot from 'cluster-key-slot';
import { partitionOf } from '../../runtime/partition.ts';
import { startClusterSinks } from '../support/cluster-sinks.ts';
import { waitFor } from '../support/wait-for.ts';

const PARTITIONS = 16;
const KEYS = 160;
const WRITERS = 8;

/**
 * A partition's slot moved to another master with `redis-cli --cluster reshard` while capture
 * writes and a PostgreSQL and a MongoDB sink apply (a cluster of the test's own). Each key is
 * written by one writer, one write after the other, its value a counter of its own: in the log
 * every key's values rise. Both targets are sampled all along; a key's value going back in a
 * target would be an event applied out of order. At the end both equal the cache.
 */
describe('sinks on a Redis Cluster: a partition moved to another master under load', {
  timeout: 300_000,
}, () => {
  test('reads follow the slot, per-key order holds in both sinks, both converge', async (context) => {
    const { cluster, capture, postgresNames, mongoNames, close } = await startClusterSinks(
      'sinks_reshard',
      PARTITIONS,
      2000,
    );
    // Where each target was seen, and every time a key's value went back.
    const seen = { postgres: new Map<string, number>(), mongo: new Map<string, number>() };
    const backwards: string[] = [];
    const observe = (target: 'postgres' | 'mongo', values: Map<string, number>): void => {
      for (const [key, value] of values) {
        const before = seen[target].get(key) ?? -1;
        if (value < before) backwards.push(`${target} ${key}: ${before} then ${value}`);
        else seen[target].set(key, value);
      }
    };
    const asNumbers = (names: Map<string, string>): Map<string, number> =>
      new Map([...names].map(([key, name]) => [key, Number(name)]));
    const pgValues = async () => asNumbers(await postgresNames());
    const mongoValues = async () => asNumbers(await mongoNames());
    try {
      // The partition whose slot is lowest among its master's slots: the fewest slots to move.
      const choices = await Promise.all(
        Array.from({ length: PARTITIONS }, async (_, p) => {
          const slot = keySlot(capture.keys.stream('todo', p));
          const master = await cluster.masterOf(slot);
          const rank = (await cluster.slotsOf(master)).indexOf(slot);
          return { p, slot, master, rank };
        }),
      );
      const moved = choices.reduce((a, b) => (b.rank < a.rank ? b : a));
      const to = (await cluster.masters()).find((port) => port !== moved.master)!;

      let stop = false;
      let answered = 0;
      let refused = 0;
      const counters = new Map<string, number>();
      const writer = async (w: number): Promise<void> => {
        const mine = Array.from({ length: KEYS / WRITERS }, (_, i) => `k${i * WRITERS + w}`);
        for (let i = 0; !stop; i++) {
          const key = mine[i % mine.length]!;
          const value = (counters.get(key) ?? 0) + 1;
          counters.set(key, value);
          try {
            await capture.upsert('todo', { id: key, name: String(value) });
            answered++;
          } catch {
            refused++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const sampler = (async () => {
        while (!stop) {
          observe('postgres', await pgValues());
          observe('mongo', await mongoValues());
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const beforeMove = answered;
      await cluster.reshard(moved.master, to, moved.rank + 1);
      assert.equal(await cluster.masterOf(moved.slot), to, 'the partition moved');
      const duringMove = answered - beforeMove;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      stop = true;
      await Promise.all(writers);
      await sampler;
      context.diagnostic(
        `partition ${moved.p} (slot ${moved.slot}) moved from ${moved.master} to ${to} with ` +
          `${moved.rank + 1} slots; ${answered} writes answered (${duringMove} while moving), ` +
          `${refused} refused`,
      );
      assert.ok(answered - beforeMove > duringMove, 'writes went on after the move');
      const expected = new Map<string, number>();
      for (let k = 0; k < KEYS; k++) {
        const value = await capture.get('todo', `k${k}`);
        if (value) expected.set(`k${k}`, Number(value.record.name));
      }
      assert.equal(expected.size, KEYS);
      const same = (actual: Map<string, number>): boolean =>
        [...expected].every(([key, value]) => actual.get(key) === value);
      await waitFor(
        'PostgreSQL converged on the cache',
        async () => {
          const values = await pgValues();
          observe('postgres', values);
          return same(values);
        },
        60_000,
      );
      await waitFor(
        'MongoDB converged on the cache',
        async () => {
          const values = await mongoValues();
          observe('mongo', values);
          return same(values);
        },
        60_000,
      );
      assert.deepEqual(backwards, [], 'a key went back in a target');
      // The moved partition was written and applied on both sides of the move.
      const movedKeys = [...expected.keys()].filter((k) => partitionOf(k, PARTITIONS) === moved.p);
      assert.ok(movedKeys.length > 0, 'keys of the moved partition were written');
    } finally {
      await close();
    }
  });
});
