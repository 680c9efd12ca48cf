import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Capture } from '../../runtime/capture/capture.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { ReplayRequests } from '../../runtime/sink/replay-requests.ts';
import { buildCaptureServer } from '../../services/capture/src/server.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';

const P = 2;
const TOKEN = 'ops-token';
const MONITOR = { sampleMs: 200, windowMs: 1000 };

/**
 * The lag page's operator routes: replay (dry run, then for real) and re-drive or skip of a
 * quarantined key, as `cdc replay`, `cdc redrive` and `cdc skip` ask them. Refused without the
 * token, refused altogether (read-only) when the service has no token.
 */
describe('lag page operator routes', () => {
  let redisCtx: TestRedis;
  let capture: Capture;
  let secured: FastifyInstance;
  let open: FastifyInstance;
  const key = 'k-1';
  let partition: number;

  before(async () => {
    redisCtx = await createTestRedis('dashactions');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    secured = buildCaptureServer(capture, {
      token: TOKEN,
      dashboard: { redis: redisCtx.redis, ...MONITOR },
    });
    open = buildCaptureServer(capture, { dashboard: { redis: redisCtx.redis, ...MONITOR } });
    await secured.ready();
    await open.ready();
    partition = partitionOf(key, P);
    await capture.upsert('todo', { id: key, name: 'one' });
    await capture.upsert('todo', { id: key, name: 'two' });
    const stream = capture.keys.stream('todo', partition);
    await redisCtx.redis.xgroup('CREATE', stream, 'pg', '0');
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'pg');
    const [first] = await redisCtx.redis.xrange(stream, '-', '+', 'COUNT', 1);
    const head = await letters.add('failed', 'todo', partition, key, first![0], 'boom', []);
    await letters.quarantine('todo', partition, key, head);
  });

  after(async () => {
    await secured?.close();
    await open?.close();
    await capture?.close();
    await redisCtx?.cleanup();
  });

  const replay = { sink: 'pg', from: 'start', dryRun: true };
  const quarantined = () => ({ sink: 'pg', entity: 'todo', partition, key });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  test('without the token every route of the page is refused with 401', async () => {
    for (const [method, url, payload] of [
      ['GET', '/dashboard', undefined],
      ['GET', '/dashboard/view', undefined],
      ['POST', '/dashboard/replay', replay],
      ['POST', '/dashboard/quarantine/redrive', quarantined()],
      ['POST', '/dashboard/quarantine/skip', quarantined()],
    ] as const) {
      const res = await secured.inject({ method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      const wrong = await secured.inject({
        method,
        url,
        headers: { authorization: 'Bearer nope' },
        ...(payload ? { payload } : {}),
      });
      assert.equal(wrong.statusCode, 401, `${method} ${url} with a wrong token`);
    }
    assert.deepEqual(
      await new ReplayRequests(redisCtx.redis, capture.keys, 'pg').pending(),
      new Map(),
    );
    const state = (
      await new DeadLetters(redisCtx.redis, capture.keys, 'pg').quarantined('todo', partition)
    ).get(key);
    assert.equal(state?.request, undefined, 'nothing was requested');
  });

  test('with the token: a dry run plans without asking, the replay asks, the page says actions are on', async () => {
    const view = await secured.inject({ url: '/dashboard/view', headers: bearer });
    assert.equal(view.json().actions, true);
    const requests = new ReplayRequests(redisCtx.redis, capture.keys, 'pg');
    const dry = await secured.inject({
      method: 'POST',
      url: '/dashboard/replay',
      headers: bearer,
      payload: replay,
    });
    assert.equal(dry.statusCode, 200, dry.body);
    assert.deepEqual(dry.json(), {
      dryRun: true,
      partitions: [{ entity: 'todo', partition, after: '0-0', entries: 2 }],
    });
    assert.deepEqual(await requests.pending(), new Map());
    const real = await secured.inject({
      method: 'POST',
      url: '/dashboard/replay',
      headers: bearer,
      payload: { ...replay, dryRun: false },
    });
    assert.equal(real.statusCode, 200, real.body);
    assert.deepEqual(await requests.pending(), new Map([[`todo/${partition}`, '0-0']]));
    const unknown = await secured.inject({
      method: 'POST',
      url: '/dashboard/replay',
      headers: bearer,
      payload: { ...replay, sink: 'nobody' },
    });
    assert.equal(unknown.statusCode, 404);
    const bad = await secured.inject({
      method: 'POST',
      url: '/dashboard/replay',
      headers: bearer,
      payload: { ...replay, from: 'offset', at: 'yesterday' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().issues[0].path, 'at');
  });

  test('with the token: re-drive and skip of a quarantined key are requested; an unknown key is 404', async () => {
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'pg');
    for (const action of ['redrive', 'skip'] as const) {
      const res = await secured.inject({
        method: 'POST',
        url: `/dashboard/quarantine/${action}`,
        headers: bearer,
        payload: quarantined(),
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await letters.quarantined('todo', partition)).get(key)?.request, action);
    }
    const missing = await secured.inject({
      method: 'POST',
      url: '/dashboard/quarantine/redrive',
      headers: bearer,
      payload: { ...quarantined(), key: 'not-quarantined' },
    });
    assert.equal(missing.statusCode, 404);
  });

  test('a service without a token serves the page read-only and refuses every request with 403', async () => {
    assert.equal((await open.inject('/dashboard')).statusCode, 200);
    assert.equal((await open.inject('/dashboard/view')).json().actions, false);
    for (const url of [
      '/dashboard/replay',
      '/dashboard/quarantine/redrive',
      '/dashboard/quarantine/skip',
    ]) {
      const res = await open.inject({
        method: 'POST',
        url,
        payload: url.endsWith('replay') ? replay : quarantined(),
      });
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.json().error, 'READ_ONLY');
    }
  });
});

test('closing the capture server ends the open event streams instead of waiting for them', async () => {
  const redisCtx = await createTestRedis('dashclose');
  const capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], 1);
  try {
    const app = buildCaptureServer(capture, { dashboard: { redis: redisCtx.redis, ...MONITOR } });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const events = await fetch(`${base}/dashboard/events`);
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^event: view\ndata: \{"actions":false/);
    const started = Date.now();
    // Bounded: a close that waited for the stream would hang the test instead of failing it.
    await Promise.race([app.close(), sleep(3000)]);
    assert.ok(Date.now() - started < 2000, 'closed without waiting for the browser');
    // The stream ends; whatever was still buffered comes first.
    while (!(await reader.read()).done) {}
  } finally {
    await capture.close();
    await redisCtx.cleanup();
  }
});
