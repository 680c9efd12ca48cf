import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCdc } from '../support/cdc-cli.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { TEST_RUNNER_TIMINGS } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 4;

interface SinksJson {
  sinks: Array<{
    sink: string;
    source: string;
    state: string;
    partitions: number;
    unowned: string[];
    instances: Array<{
      instance: string;
      partitions: string[];
      heartbeat_age_s: number | null;
      expires_in_s: number;
    }>;
  }>;
}

describe('cdc sinks: each sink, its live instances and the partitions they own', () => {
  let fx: PostgresSinkFixture;

  const sinks = async (...args: string[]) => {
    const { code, out } = await runCdc(fx.prefix, '--json', 'sinks', ...args);
    assert.equal(code, 0, out);
    return JSON.parse(out) as SinksJson;
  };

  before(async () => {
    fx = await createPostgresSinkFixture('cli_sinks', ['todo'], P);
    await fx.capture.upsert('todo', { id: 'a', name: 'first' });
  });

  after(() => fx.cleanup());

  test('two running instances share every partition, each with a fresh heartbeat; a group with no instance is stopped', async () => {
    await fx.startRunner('pg-one');
    await fx.startRunner('pg-two');
    // A sink that was added and never ran: its consumer groups exist, no instance does.
    for (let p = 0; p < P; p++)
      await fx.redisCtx.redis.xgroup('CREATE', fx.capture.keys.stream('todo', p), 'idle', '0');

    let json: SinksJson | undefined;
    await waitFor('both instances own partitions', async () => {
      json = await sinks();
      const pg = json.sinks.find((s) => s.sink === 'postgres');
      return (
        pg?.instances.length === 2 &&
        pg.unowned.length === 0 &&
        pg.instances.every((i) => i.partitions.length === P / 2)
      );
    });
    const pg = json?.sinks.find((s) => s.sink === 'postgres');
    assert.equal(pg?.state, 'running');
    assert.equal(pg?.source, 'streams');
    assert.equal(pg?.partitions, P);
    assert.deepEqual(
      pg?.instances.map((i) => i.instance),
      ['pg-one', 'pg-two'],
    );
    const owned = pg?.instances.flatMap((i) => i.partitions).sort();
    assert.deepEqual(
      owned,
      Array.from({ length: P }, (_, p) => `todo/${p}`),
    );
    const leaseS = TEST_RUNNER_TIMINGS.leaseMs / 1000;
    for (const i of pg?.instances ?? []) {
      assert.ok(
        i.heartbeat_age_s !== null && i.heartbeat_age_s <= leaseS,
        String(i.heartbeat_age_s),
      );
      assert.ok(i.expires_in_s > 0 && i.expires_in_s <= leaseS, String(i.expires_in_s));
    }

    const idle = json?.sinks.find((s) => s.sink === 'idle');
    assert.equal(idle?.state, 'stopped');
    assert.equal(idle?.instances.length, 0);
    assert.equal(idle?.unowned.length, P);

    const table = await runCdc(fx.prefix, 'sinks');
    assert.equal(table.code, 0, table.out);
    assert.match(table.out, /^sink +source +state +instances +partitions +unowned\n/);
    assert.match(table.out, /\nidle +streams +stopped +0 +4 +4\n/);
    assert.match(table.out, /\npostgres +streams +running +2 +4 +0\n/);
    assert.match(table.out, /\npostgres +pg-one +\d+(\.\d)? +todo\/\d todo\/\d\n/);
    // Not a terminal: no colour escapes for scripts that read the table.
    assert.ok(!table.out.includes('\u001b['), table.out);
  });

  test('an instance that stops drops out and the one left takes its partitions; --sink narrows', async () => {
    const [first] = fx.runners;
    await first?.stop();
    await waitFor('the other instance owns everything', async () => {
      const [pg] = (await sinks('--sink', 'postgres')).sinks;
      return pg?.instances.length === 1 && pg.instances[0]?.partitions.length === P;
    });
    const only = await sinks('--sink', 'postgres');
    assert.deepEqual(
      only.sinks.map((s) => [s.sink, s.instances[0]?.instance]),
      [['postgres', 'pg-two']],
    );
    for (const r of fx.runners) await r.stop();
    await waitFor('the stopped sink has no live instance', async () => {
      const [pg] = (await sinks('--sink', 'postgres')).sinks;
      return pg?.state === 'stopped' && pg.instances.length === 0 && pg.unowned.length === P;
    });
  });
});
