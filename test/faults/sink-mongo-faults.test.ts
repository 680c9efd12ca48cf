import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Document } from 'mongodb';
import type { BatchWrite, Capture } from '../../runtime/capture/capture.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { type LoggedEvent, readLog } from '../support/log-checker.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

const ENTITY = 'todo';
const P = 4;
const KEYS = 500;
const EVENTS = 20_000;
/** Every DELETE_EVERY-th event deletes its key; 7 and KEYS share no factor, so all keys get some. */
const DELETE_EVERY = 7;
const SINK = 'mongo';
const OFFSETS = 'cdc_offsets';
/** Small enough that the load takes about 50 batches: the kill finds some committed, many to go. */
const BATCH_SIZE = 100;

/** The test server's URL pointing at the test's own database. */
function urlFor(dbName: string): string {
  return testEnv.mongoUrl.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${dbName}`);
}

/**
 * Fault tests of the MongoDB sink as a real process: kill -9 in the middle of a load, and a full
 * replay of the log over documents that are already current. Each key's `name` is its own
 * sequence number and some events are deletes, so the checker knows every key's final document;
 * each document's `_v` must be the id of its key's last event. While a sink runs, the versions are
 * polled too: none may go backwards, and a replay of what is already applied may change none.
 *
 * The server behind MONGO_URL may be a MongoDB-wire server without transactions (the harness runs
 * mongo-java-server), so the sink runs with its default, the version-guarded writes.
 */
describe('MongoDB sink under faults', { timeout: 300_000 }, () => {
  let redisCtx: TestRedis;
  let mongoCtx: TestMongo;
  let prefix: string;
  let capture: Capture;
  /** Sequence number and operation of each key's last generated event. */
  const last = new Map<string, { seq: number; op: 'upsert' | 'delete' }>();
  let seq = 0;
  const running: ServiceProcess[] = [];
  const watchers: Array<() => Promise<unknown>> = [];

  const startSink = (): ServiceProcess => {
    const sink = startService('sink-mongo', {
      REDIS_URL: testEnv.redisUrl,
      CDC_PREFIX: prefix,
      MONGO_URL: urlFor(mongoCtx.dbName),
      SINK_NAME: SINK,
      SINK_BLOCK_MS: '100',
      SINK_LEASE_MS: '1500',
      SINK_BATCH_SIZE: String(BATCH_SIZE),
    });
    running.push(sink);
    return sink;
  };

  const load = async (events: number): Promise<void> => {
    for (let done = 0; done < events; done += 1000) {
      const writes: BatchWrite[] = [];
      for (let i = 0; i < Math.min(1000, events - done); i++) {
        seq++;
        const id = `k${seq % KEYS}`;
        if (seq % DELETE_EVERY === 0) {
          writes.push({ op: 'delete', key: id });
          last.set(id, { seq, op: 'delete' });
        } else {
          writes.push({ op: 'upsert', record: { id, name: String(seq) } });
          last.set(id, { seq, op: 'upsert' });
        }
      }
      await capture.writeMany(ENTITY, writes);
    }
  };

  const streamHeads = async (): Promise<string[]> => {
    const heads: string[] = [];
    for (let p = 0; p < P; p++) {
      const [entry] = await redisCtx.redis.xrevrange(
        capture.keys.stream(ENTITY, p),
        '+',
        '-',
        'COUNT',
        1,
      );
      heads.push(entry?.[0] ?? '');
    }
    return heads;
  };

  /** Every partition's applied watermark is its stream's last id. */
  const caughtUp = async (): Promise<boolean> => {
    const heads = await streamHeads();
    for (let p = 0; p < P; p++) {
      const watermark = await redisCtx.redis.get(capture.keys.watermark(ENTITY, p, SINK));
      if (heads[p] && watermark !== heads[p]) return false;
    }
    return true;
  };

  /** The sink's consumer group on one partition stream (XINFO GROUPS). */
  const group = async (
    p: number,
  ): Promise<{ entriesRead: number; pending: number; lag: number | null }> => {
    const groups = (await redisCtx.redis.xinfo('GROUPS', capture.keys.stream(ENTITY, p))) as Array<
      Array<string | number | null>
    >;
    const found = groups.find((g) => g[g.indexOf('name') + 1] === SINK);
    const field = (name: string) => found?.[found.indexOf(name) + 1] ?? null;
    return {
      entriesRead: Number(field('entries-read') ?? 0),
      pending: Number(field('pending') ?? 0),
      lag: field('lag') === null ? null : Number(field('lag')),
    };
  };

  /** Entries the sink has applied and acknowledged, over all partitions. */
  const acknowledged = async (): Promise<number> => {
    let total = 0;
    for (let p = 0; p < P; p++) {
      const { entriesRead, pending } = await group(p);
      total += entriesRead - pending;
    }
    return total;
  };

  /** Offset documents of this sink, keyed by partition. */
  const storedOffsets = async (): Promise<Map<number, string>> => {
    const docs = await mongoCtx.db.collection(OFFSETS).find({ sink: SINK }).toArray();
    return new Map(docs.map((d) => [d.partition as number, d.offset as string]));
  };

  const documents = async (): Promise<Map<string, Document>> => {
    const all = await mongoCtx.db.collection(ENTITY).find().toArray();
    return new Map(all.map((d) => [String(d._id), d]));
  };

  /**
   * Polls every document's `_v` while a sink runs. A guarded write only ever moves a version
   * forward, so `backwards` must stay empty; `changed` lists every version that differs from the
   * one seen before (or from `initial`), which a replay of events already applied must not cause.
   * The final state alone could not show either: replaying in order ends at the same documents
   * even without a guard.
   */
  const watchVersions = (initial = new Map<string, string>()) => {
    const seen = new Map(initial);
    const backwards: string[] = [];
    const changed: string[] = [];
    let polls = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const docs = await mongoCtx.db
          .collection(ENTITY)
          .find({}, { projection: { _v: 1 } })
          .toArray();
        for (const doc of docs) {
          const id = String(doc._id);
          const version = String(doc._v);
          const before = seen.get(id);
          if (before !== undefined && version !== before) {
            changed.push(`${id}: ${before} -> ${version}`);
            if (version < before) backwards.push(`${id}: ${before} -> ${version}`);
          }
          seen.set(id, version);
        }
        polls++;
        await sleep(100);
      }
    })();
    // Handled here so that a failed poll surfaces in stop() rather than as an unhandled rejection.
    loop.catch(() => undefined);
    const stop = async () => {
      running = false;
      await loop;
      return { polls, backwards, changed };
    };
    watchers.push(stop);
    return { stop };
  };

  /**
   * The collection holds exactly one document per key, each written by its key's last event (by
   * the stream, and by the generator's own count), the offsets stand at the stream heads, and
   * nothing was dead-lettered.
   */
  const assertExact = async (): Promise<void> => {
    const lastInStream = new Map<string, LoggedEvent>();
    for (const event of await readLog(redisCtx.redis, capture.keys, capture.registry, ENTITY, P)) {
      lastInStream.set(event.key, event);
    }
    assert.equal(lastInStream.size, last.size, 'every generated key is in the stream');
    const docs = await documents();
    assert.equal(docs.size, last.size, 'one document per key, tombstones included');
    for (const [key, expected] of last) {
      const doc = docs.get(key);
      const event = lastInStream.get(key)!;
      assert.ok(doc, `key ${key} has a document`);
      assert.equal(event.op, expected.op, `key ${key}: the stream ends with the generated op`);
      assert.equal(doc._v, encodeVersion(event.id), `key ${key}: _v is its last event's id`);
      if (expected.op === 'delete') {
        assert.equal(doc._deleted, true, `key ${key} is a tombstone`);
        assert.equal('name' in doc, false, `tombstone ${key} holds no data`);
        assert.ok(doc._deletedAt instanceof Date, `tombstone ${key} has _deletedAt`);
      } else {
        assert.equal(event.record?.name, String(expected.seq));
        assert.equal(doc._deleted, false, `key ${key} is live`);
        assert.equal(doc.name, String(expected.seq), `key ${key}: name is its last sequence`);
      }
    }
    const heads = await streamHeads();
    const offsets = await storedOffsets();
    for (let p = 0; p < P; p++) assert.equal(offsets.get(p), heads[p], `offset of partition ${p}`);
    const letters = await new DeadLetters(redisCtx.redis, capture.keys, SINK).list();
    assert.deepEqual(
      letters.map((l) => `${l.key} ${l.id}: ${l.error}`),
      [],
      'nothing was dead-lettered',
    );
  };

  before(async () => {
    redisCtx = await createTestRedis('faultmongo');
    prefix = redisCtx.capturePrefix;
    mongoCtx = await createTestMongo('faultmongo');
    capture = await createTestCapture(prefix, [ENTITY], P);
  });

  after(async () => {
    for (const stop of watchers) await stop().catch(() => undefined);
    for (const p of running) await p.kill('SIGKILL');
    await capture?.close();
    await redisCtx?.cleanup();
    await mongoCtx?.cleanup();
  });

  test('kill -9 in the middle of a 20k-event load, restart: every document is its key’s last event', async () => {
    await load(EVENTS);
    const versions = watchVersions();
    const sink = startSink();
    // Kill it part-way: a third of the load applied, every partition has committed an offset.
    await waitFor(
      'sink applying',
      async () =>
        (await acknowledged()) >= EVENTS / 3 &&
        (await storedOffsets()).size === P &&
        !(await caughtUp()),
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${sink.output()}`);
    });
    await sink.kill('SIGKILL');
    // Read after the kill, so nothing can move in between: the restart has work left.
    const appliedAtKill = await acknowledged();
    assert.equal(
      await caughtUp(),
      false,
      'the sink finished before it could be killed; load more events',
    );
    assert.ok(
      appliedAtKill >= EVENTS / 3 && appliedAtKill < EVENTS,
      `killed after ${appliedAtKill} of ${EVENTS} events were applied`,
    );

    const restarted = startSink();
    await waitFor('caught up after restart', caughtUp, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${restarted.output()}`);
    });
    await restarted.kill('SIGTERM');
    const watched = await versions.stop();
    assert.ok(watched.polls >= 10, `versions were polled ${watched.polls} times`);
    assert.deepEqual(watched.backwards, [], 'no version went backwards');
    await assertExact();
  });

  test('offsets removed and the group rewound: replaying the whole stream leaves every document as it was', async () => {
    const settled = await documents();
    assert.equal(settled.size, KEYS, 'the first test left a document per key');
    // What an operator does to replay a sink from the start: forget the offsets in the target and
    // rewind the consumer group, whose acknowledged entries would otherwise not be read again.
    const removed = await mongoCtx.db.collection(OFFSETS).deleteMany({ sink: SINK });
    assert.equal(removed.deletedCount, P);
    for (let p = 0; p < P; p++) {
      await redisCtx.redis.xgroup('SETID', capture.keys.stream(ENTITY, p), SINK, '0');
    }

    const versions = watchVersions(new Map([...settled].map(([id, doc]) => [id, String(doc._v)])));
    const sink = startSink();
    // The watermarks already stand at the heads; the offsets come back only through a replay.
    const heads = await streamHeads();
    await waitFor(
      'offsets replayed to the stream heads',
      async () => {
        const offsets = await storedOffsets();
        return heads.every((head, p) => offsets.get(p) === head);
      },
      180_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${sink.output()}`);
    });
    await sink.kill('SIGTERM');
    const watched = await versions.stop();
    assert.ok(watched.polls >= 5, `versions were polled ${watched.polls} times`);
    assert.deepEqual(watched.changed, [], 'no document changed at any time during the replay');

    for (let p = 0; p < P; p++) {
      const { pending, lag } = await group(p);
      assert.equal(pending, 0, `partition ${p}: nothing left pending`);
      assert.equal(lag, 0, `partition ${p}: every entry was read`);
    }
    assert.deepEqual(await documents(), settled, 'the replay changed no document');
    await assertExact();
  });
});
