import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import {
  type RetentionPolicyInput,
  resolveRetentionPolicy,
} from '../../runtime/retention/retention-policy.ts';
import { RetentionSkips } from '../../runtime/retention/retention-skips.ts';
import { registerSinkMetrics } from '../../runtime/sink/sink-metrics.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;
const INTERVAL_MS = 150;

/** A runner's retention events, metrics and warnings, as the process that trims exports them. */
interface Observed {
  instrumentation: Instrumentation;
  registry: Registry;
  warnings: Array<Record<string, unknown>>;
  trimmedBy: Map<number, number>;
  /** Groups reported holding a partition back, by partition. */
  holdersBy: Map<number, Set<string>>;
}

function observe(): Observed {
  const instrumentation = new Instrumentation();
  const registry = new Registry();
  registerSinkMetrics(instrumentation, registry);
  const trimmedBy = new Map<number, number>();
  instrumentation.on('retention.trimmed', (e) =>
    trimmedBy.set(e.partition, (trimmedBy.get(e.partition) ?? 0) + e.entries),
  );
  const holdersBy = new Map<number, Set<string>>();
  instrumentation.on('retention.held-back', (e) => {
    if (e.entries > 0)
      holdersBy.set(e.partition, (holdersBy.get(e.partition) ?? new Set()).add(e.group));
  });
  return { instrumentation, registry, warnings: [], trimmedBy, holdersBy };
}

/** A metric's value for labels, or undefined when it has no such series. */
async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return found?.value;
}

describe('retention that runs by itself in the sink runners (real Redis and PostgreSQL)', () => {
  let f: PostgresSinkFixture;
  let round = 0;

  const stream = (p: number) => f.capture.keys.stream('todo', p);
  const length = async () => {
    let total = 0;
    for (let p = 0; p < P; p++) total += await f.redisCtx.redis.xlen(stream(p));
    return total;
  };
  const firstId = async (key: string) =>
    (await f.redisCtx.redis.xrange(key, '-', '+', 'COUNT', 1))[0]?.[0] ?? 'none';
  const writeRound = async (keys = 20) => {
    round++;
    for (let k = 0; k < keys; k++)
      await f.capture.upsert('todo', { id: `k${k}`, name: `r${round}` });
  };
  const start = async (
    name: string,
    policy: RetentionPolicyInput,
    observed = observe(),
  ): Promise<SinkRunner> =>
    f.startRunner(`${name}-1`, {}, name, {
      retention: {
        intervalMs: INTERVAL_MS,
        policies: { todo: resolveRetentionPolicy('entities.todo', policy) },
      },
      instrumentation: observed.instrumentation,
      logger: pino(
        { level: 'warn' },
        { write: (line: string) => observed.warnings.push(JSON.parse(line)) },
      ),
    });
  /**
   * Another sink that never trims (interval 0): it catches up with what is written, then stops,
   * and is what holds retention back.
   */
  const runLaggardThenStop = async () => {
    const laggard = await f.startRunner('laggard-1', {}, 'laggard', {
      retention: { intervalMs: 0 },
    });
    await waitFor('the laggard caught up', () => f.appliedAll('todo', 'laggard'));
    await laggard.stop();
    f.runners.splice(f.runners.indexOf(laggard), 1);
    const needed = new Map<number, string>();
    for (let p = 0; p < P; p++)
      needed.set(
        p,
        (await f.redisCtx.redis.get(f.capture.keys.watermark('todo', p, 'laggard'))) ?? '0-0',
      );
    return needed;
  };
  const stopAll = async () => {
    for (const r of f.runners.splice(0)) await r.stop();
  };
  /** Deletes the streams' groups and entries left by a test, so each starts from nothing. */
  const resetStreams = async () => {
    for (let p = 0; p < P; p++) await f.redisCtx.redis.del(stream(p));
  };

  before(async () => {
    f = await createPostgresSinkFixture('retention-auto', ['todo'], P);
  });
  after(async () => {
    await f.cleanup();
  });

  test('the owner trims by itself, within a few intervals, to the safe bound', async () => {
    const observed = observe();
    await start('postgres', { minAge: '0' }, observed);
    await writeRound();
    await waitFor('sink caught up', () => f.appliedAll('todo'));
    // Everything applied, no minimum age: each partition keeps only the entry its bound is at.
    await waitFor('streams trimmed to one entry each', async () => (await length()) === P, 5000);
    for (let p = 0; p < P; p++) {
      const applied = await f.redisCtx.redis.get(f.capture.keys.watermark('todo', p, 'postgres'));
      const first = await firstId(stream(p));
      assert.equal(first, applied, `partition ${p} starts at its applied watermark`);
    }
    assert.equal((await f.rows('todo')).size, 20);
    const trimmed = [...observed.trimmedBy.values()].reduce((a, b) => a + b, 0);
    assert.equal(trimmed, 20 - P);
    let exported = 0;
    for (let p = 0; p < P; p++)
      exported +=
        (await metric(observed.registry, 'cdc_retention_trimmed_entries_total', {
          entity: 'todo',
          partition: String(p),
        })) ?? 0;
    assert.equal(exported, trimmed);
    await stopAll();
    await resetStreams();
  });

  test('keepExtra keeps that many more entries below the safe bound', async () => {
    await start('postgres', { minAge: '0', keepExtra: 3 });
    await writeRound();
    await waitFor('sink caught up', () => f.appliedAll('todo'));
    // The entry at the bound and 3 more below it, per partition.
    await waitFor(
      'streams trimmed to four entries each',
      async () => (await length()) === P * 4,
      5000,
    );
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    assert.equal(await length(), P * 4);
    await stopAll();
    await resetStreams();
  });

  test('a stopped sink holds retention back: nothing it needs goes, and the hold is shown', async () => {
    await writeRound();
    const needed = await runLaggardThenStop();
    const observed = observe();
    await start('postgres', { minAge: '0', maxHoldBack: 5 }, observed);
    await writeRound();
    await writeRound();
    await waitFor('postgres caught up', () => f.appliedAll('todo'));
    const warned = await waitFor(
      'a warning naming the group',
      () => observed.warnings.find((w) => w.group === 'laggard'),
      5000,
    );
    assert.match(String(warned.msg), /held back past its limit by group "laggard"/);
    // A few more passes: still nothing the laggard needs has gone.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    let heldBack = 0;
    for (let p = 0; p < P; p++) {
      const first = await firstId(stream(p));
      assert.ok(
        compareStreamIds(first, needed.get(p)!) <= 0,
        `partition ${p} still holds what the laggard has not applied`,
      );
      heldBack +=
        (await metric(observed.registry, 'cdc_retention_held_back_entries', {
          entity: 'todo',
          partition: String(p),
          group: 'laggard',
        })) ?? 0;
      assert.equal(
        await metric(observed.registry, 'cdc_retention_held_back_over_limit', {
          entity: 'todo',
          partition: String(p),
          group: 'laggard',
        }),
        1,
      );
    }
    // Two rounds of 20 keys written since it stopped: all held back for it alone.
    assert.equal(heldBack, 40);
    assert.equal(
      (await new RetentionSkips(f.redisCtx.redis, f.capture.keys).of('laggard')).size,
      0,
    );
    await stopAll();
    await resetStreams();
  });

  test('opted in, retention trims past a stopped sink down to the limit and records the skip', async () => {
    const policy = { minAge: '0', maxHoldBack: 3, onHoldBack: 'trim' } as const;
    await writeRound();
    await runLaggardThenStop();
    const observed = observe();
    await start('postgres', policy, observed);
    await writeRound();
    await writeRound();
    await waitFor('postgres caught up', () => f.appliedAll('todo'));
    // Without the laggard the bound is postgres' last entry: the limit's 3 stay below it.
    await waitFor('trimmed past the laggard', async () => (await length()) === P * 4, 5000);
    const skips = await new RetentionSkips(f.redisCtx.redis, f.capture.keys).of('laggard');
    let lost = 0;
    for (let p = 0; p < P; p++) {
      const skip = skips.get(`todo/${p}`);
      assert.ok(skip, `partition ${p}: the laggard's skipped range is recorded`);
      const first = await firstId(stream(p));
      assert.equal(skip.to, first, 'the skip ends where the stream starts now');
      lost += skip.entries;
      assert.equal(
        await metric(observed.registry, 'cdc_retention_skipped_entries_total', {
          entity: 'todo',
          partition: String(p),
          group: 'laggard',
        }),
        skip.entries,
      );
    }
    // 40 entries written since it stopped, 4 per partition kept (3 + the bound's own).
    assert.equal(lost, 40 - P * 4);
    assert.ok(
      observed.warnings.some(
        (w) => w.group === 'laggard' && /trimmed past group "laggard"/.test(String(w.msg)),
      ),
    );
    // Restarted, the laggard goes on from what is left (its gap is the recorded range).
    await f.startRunner('laggard-1', {}, 'laggard', { retention: { intervalMs: 0 } });
    await waitFor('the restarted laggard caught up', () => f.appliedAll('todo', 'laggard'));
    await stopAll();
    await resetStreams();
  });

  test('two sinks running: one trimmer per partition', async () => {
    const a = observe();
    const b = observe();
    await start('postgres', { minAge: '0' }, a);
    await start('second', { minAge: '0' }, b);
    for (let i = 0; i < 5; i++) {
      await writeRound();
      await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
    }
    await waitFor('both caught up', async () =>
      (await f.appliedAll('todo')) ? f.appliedAll('todo', 'second') : false,
    );
    await waitFor('trimmed', async () => (await length()) === P, 5000);
    for (let p = 0; p < P; p++) {
      const trimmers = [a, b].filter((o) => (o.trimmedBy.get(p) ?? 0) > 0);
      assert.equal(trimmers.length, 1, `partition ${p} trimmed by exactly one instance`);
      const holder = await f.redisCtx.redis.get(f.capture.keys.retentionLease('todo', p));
      assert.equal(holder, trimmers[0] === a ? 'postgres/postgres-1' : 'second/second-1');
    }
    await stopAll();
  });

  test("when the trimming instance stops, another sink takes its partitions' retention over", async () => {
    await resetStreams();
    const a = observe();
    const b = observe();
    const first = await start('postgres', { minAge: '0' }, a);
    await writeRound();
    await waitFor('postgres trimmed', () => a.trimmedBy.size === P, 5000);
    // Only now does the second sink start: postgres holds every retention lease.
    await start('second', { minAge: '0' }, b);
    await waitFor('second caught up', () => f.appliedAll('todo', 'second'));
    await first.stop();
    f.runners.splice(f.runners.indexOf(first), 1);
    await writeRound();
    await writeRound();
    // Postgres' group stays where it stopped: the second sink, trimming now, reports it.
    await waitFor(
      'the second sink reports the stopped one holding every partition back',
      () => [...Array(P).keys()].every((p) => b.holdersBy.get(p)?.has('postgres')),
      5000,
    );
    for (let p = 0; p < P; p++)
      assert.equal(
        await f.redisCtx.redis.get(f.capture.keys.retentionLease('todo', p)),
        'second/second-1',
      );
    await stopAll();
  });
});
