import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import type { Capture } from '../../runtime/capture/capture.ts';
import { consumerGroups } from '../../runtime/consumer-groups.ts';
import { partitionLag } from '../../runtime/lag.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { ReplayRequests } from '../../runtime/sink/replay-requests.ts';
import { ZERO_ID } from '../../runtime/stream-id.ts';
import { buildCaptureServer } from '../../services/capture/src/server.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { launchChromium } from '../support/chromium.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import { testRedisEnv } from '../support/test-redis-env.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;
/** Short timings so that the states change within seconds (the service defaults are 5 s / 60 s). */
const MONITOR = { sampleMs: 300, windowMs: 1500, historyMs: 120_000 };

/** The little of the DOM the browser-side callbacks use (the project compiles without its types). */
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

/** A partition row of the page, as its cells' exact values say. */
interface PageRow {
  entity: string;
  partition: number;
  state: string;
  applied: string;
  behind: string;
  pending: number;
  seconds: number;
  /** The Redis node serving the partition, `host:port`. */
  node: string;
}

async function pageRows(page: Page, sink: string): Promise<PageRow[]> {
  // Plain data out of the page: the callback runs in the browser, so it defines no named
  // function (the TypeScript loader would wrap those in a helper the page does not have).
  const rows = await page.$$eval(`tr[data-sink="${sink}"][data-partition]`, (trs: DomElement[]) =>
    trs.map((tr) => ({
      state: tr.getAttribute('data-state') ?? '',
      cells: Array.from(tr.querySelectorAll('td[data-field]')).map((td) => [
        td.getAttribute('data-field') ?? '',
        td.getAttribute('data-value') ?? td.textContent ?? '',
      ]),
    })),
  );
  return rows.map(({ state, cells }) => {
    const field = new Map(cells as Array<[string, string]>);
    return {
      entity: field.get('entity') ?? '',
      partition: Number(field.get('partition')),
      state,
      applied: field.get('applied') ?? '',
      behind: field.get('behind') ?? '',
      pending: Number(field.get('pending')),
      seconds: Number(field.get('seconds')),
      node: field.get('node') ?? '',
    };
  });
}

/** Waits for the page to show a sample taken after `since` (ms). */
async function sampledAfter(page: Page, since: number): Promise<void> {
  await waitFor(
    'a newer sample on the page',
    async () => Number(await page.locator('body').getAttribute('data-sampled-at')) > since,
    10_000,
  );
}

/**
 * `cdc lag --json`'s stream rows, whatever the shape and key style of the moment: an array of
 * rows or `{ streams: [...] }`, `oldest unapplied (s)` or `oldest_unapplied_s`.
 */
function cliLagRows(out: string) {
  const parsed = JSON.parse(out) as unknown;
  const rows = (
    Array.isArray(parsed) ? parsed : (parsed as { streams: unknown[] }).streams
  ) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    sink: String(r.sink),
    entity: String(r.entity),
    partition: Number(r.partition),
    applied: String(r.applied),
    behind: String(r.behind),
    pending: Number(r.pending),
    seconds: Number(r['oldest unapplied (s)'] ?? r.oldest_unapplied_s ?? r.oldestUnappliedS),
    node: String(r.node),
  }));
}

describe('lag page in a browser, under a running pipeline', () => {
  let redisCtx: TestRedis;
  let pgCtx: TestPostgres;
  let capture: Capture;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  const running: ServiceProcess[] = [];
  let writing = false;
  let writer: Promise<void> | undefined;
  let seq = 0;

  const startSink = () => {
    const sink = startService('sink-postgres', {
      ...testRedisEnv(),
      CDC_PREFIX: redisCtx.capturePrefix,
      POSTGRES_URL: testEnv.postgresUrl,
      POSTGRES_SCHEMA: pgCtx.schema,
      SINK_BLOCK_MS: '100',
      SINK_LEASE_MS: '1000',
      SINK_BATCH_SIZE: '200',
    });
    running.push(sink);
    return sink;
  };
  /** Keeps writing 20 events every 100 ms, so a stopped sink falls further behind. */
  const startWriting = () => {
    writing = true;
    writer = (async () => {
      while (writing) {
        const writes = Array.from({ length: 20 }, () => {
          seq++;
          return { op: 'upsert' as const, record: { id: `k${seq % 500}`, name: String(seq) } };
        });
        await capture.writeMany('todo', writes);
        await sleep(100);
      }
    })();
  };
  const stopWriting = async () => {
    writing = false;
    await writer;
  };

  before(async () => {
    redisCtx = await createTestRedis('dashboard');
    pgCtx = await createTestPostgres('dashboard');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    app = buildCaptureServer(capture, { dashboard: { redis: redisCtx.redis, ...MONITOR } });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    writing = false;
    await writer?.catch(() => undefined);
    for (const p of running) await p.kill('SIGKILL');
    await browser?.close();
    await app?.close();
    await capture?.close();
    await redisCtx?.cleanup();
    await pgCtx?.cleanup();
  });

  test('OK while the sink applies; stopped with the lag growing once it is killed; OK again after a restart; the numbers are those of cdc lag', async () => {
    const sink = startSink();
    startWriting();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('requestfailed', (r) => {
      // The event stream is cut when the page closes; anything else failing is a bug.
      if (!r.url().endsWith('/dashboard/events')) problems.push(`${r.url()} failed`);
    });
    await page.goto(`${base}/dashboard`);

    const states = async () => (await pageRows(page, 'postgres')).map((r) => r.state);
    const allIn = async (...wanted: string[]) => {
      const s = await states();
      return s.length === P && s.every((x) => wanted.includes(x)) ? s : false;
    };
    const behindSum = async () =>
      (await pageRows(page, 'postgres')).reduce((n, r) => n + Number(r.behind), 0);

    await waitFor('the page shows every partition OK', () => allIn('ok'), 45_000, 200).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}; page states ${JSON.stringify(problems)}\n${sink.output()}`,
        );
      },
    );
    const instance = page.locator('#instances tr[data-sink="postgres"][data-live="true"]');
    await waitFor('the sink instance listed live', async () => (await instance.count()) === 1);
    assert.match(
      (await instance.locator('[data-field="partitions"]').textContent()) ?? '',
      /todo\/0/,
    );
    const chartPoints = async () =>
      Number(
        await page
          .locator('section.sink[data-sink="postgres"] svg.chart')
          .getAttribute('data-points'),
      );
    const points = await chartPoints();
    await waitFor('the chart drawing each new sample', async () => (await chartPoints()) > points);

    await sink.kill('SIGKILL');
    await waitFor('the page shows the killed sink stopped', () => allIn('stopped'), 20_000, 100);
    const before = await behindSum();
    await waitFor(
      'the lag growing on the page',
      async () => (await behindSum()) > before + 40,
      10_000,
      100,
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(
      metrics,
      /cdc_sink_partition_state\{sink="postgres",entity="todo",partition="0",state="stopped"\} 1/,
    );
    assert.match(
      metrics,
      /cdc_sink_partition_state_code\{sink="postgres",entity="todo",partition="1"\} 3/,
    );

    // With the sink dead and the writer paused nothing moves but time: the page, cdc lag and
    // the runtime's own computation must agree.
    await stopWriting();
    const paused = Date.now();
    await sampledAfter(page, paused);
    const shown = await pageRows(page, 'postgres');
    const cli = await runCdc(redisCtx.capturePrefix, '--json', 'lag', '--sink', 'postgres');
    assert.ok(cli.code === 0, cli.out);
    const fromCli = cliLagRows(cli.out);
    for (const row of shown) {
      const stream = capture.keys.stream('todo', row.partition);
      const group = (await consumerGroups(redisCtx.redis, stream)).find(
        (g) => g.name === 'postgres',
      );
      assert.ok(group);
      const applied =
        (await redisCtx.redis.get(capture.keys.watermark('todo', row.partition, 'postgres'))) ??
        ZERO_ID;
      const lag = await partitionLag(redisCtx.redis, stream, group, applied);
      assert.deepEqual(
        { applied: row.applied, behind: row.behind, pending: row.pending },
        { applied: lag.applied, behind: String(lag.behind), pending: lag.pending },
        `partition ${row.partition}: the page and runtime/lag.ts`,
      );
      assert.ok(Number(row.behind) > 0, 'behind while stopped');
      const c = fromCli.find((r) => r.sink === 'postgres' && r.partition === row.partition);
      assert.ok(c, cli.out);
      assert.deepEqual(
        { applied: c.applied, behind: c.behind, pending: c.pending, node: c.node },
        { applied: row.applied, behind: row.behind, pending: row.pending, node: row.node },
        `partition ${row.partition}: the page and cdc lag --json`,
      );
      // The age goes on growing between the two reads: the CLI ran last, by a few seconds at most.
      assert.ok(
        c.seconds >= row.seconds - 0.1 && c.seconds - row.seconds < 15,
        `${c.seconds} vs ${row.seconds}`,
      );
    }

    startWriting();
    const restarted = startSink();
    await waitFor('the page shows every partition OK again', () => allIn('ok'), 45_000, 200).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${restarted.output()}`);
      },
    );
    await stopWriting();
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('lag page in a browser, with a token', () => {
  const TOKEN = 'dashboard-token';
  let redisCtx: TestRedis;
  let capture: Capture;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  before(async () => {
    redisCtx = await createTestRedis('dashtoken');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    app = buildCaptureServer(capture, {
      token: TOKEN,
      dashboard: { redis: redisCtx.redis, ...MONITOR },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await capture?.close();
    await redisCtx?.cleanup();
  });

  test('asks for the token, shows hostile keys and errors as text, and replays and re-drives through the page', async () => {
    const key = '<img src=x onerror="window.pwned=1">';
    const error = '<script>window.pwned=2</script> boom & <b>bold</b>';
    const partition = partitionOf(key, P);
    await capture.upsert('todo', { id: key, name: 'hostile' });
    await capture.upsert('todo', { id: 'plain', name: 'plain' });
    const stream = capture.keys.stream('todo', partition);
    // A sink with no instance running: its group and its dead letter are all there is.
    await redisCtx.redis.xgroup('CREATE', stream, 'audit', '0');
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'audit');
    const [first] = await redisCtx.redis.xrange(stream, '-', '+', 'COUNT', 1);
    const sourceId = first?.[0] ?? ZERO_ID;
    const head = await letters.add('failed', 'todo', partition, key, sourceId, error, [
      Buffer.from('f'),
      Buffer.from('v'),
    ]);
    await letters.quarantine('todo', partition, key, head);
    // Retention by hand removes the oldest entry, which `audit` never read.
    await redisCtx.redis.xtrim(
      stream,
      'MINID',
      `${sourceId.split('-')[0]}-${Number(sourceId.split('-')[1]) + 1}`,
    );

    // Without the token: refused, with a challenge a browser answers by asking for it.
    const anonymous = await fetch(`${base}/dashboard`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);

    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password: TOKEN },
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${base}/dashboard`);
    const row = page.locator(`tr.quarantine[data-key="${key.replaceAll('"', '\\"')}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('[data-field="error"]').textContent(), error);
    assert.match(
      (await row.textContent()) ?? '',
      /quarantined key <img src=x onerror="window\.pwned=1">/,
    );
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('img, b, #sinks script').count(), 0, 'no markup from data');
    const warning = page.locator('[data-warning="retention"][data-sink="audit"]');
    assert.equal(await warning.count(), 1, 'the trimmed unread entry is warned of');
    assert.match((await warning.textContent()) ?? '', new RegExp(`todo partition ${partition}`));

    // Replay: a dry run first, which asks nothing of the sink, then the confirmation.
    const requests = new ReplayRequests(redisCtx.redis, capture.keys, 'audit');
    await page.selectOption('#replay-form select[name="sink"]', 'audit');
    await page.click('#replay-form button[name="dry-run"]');
    const plan = page.locator('table[data-plan="replay"] tbody tr');
    await plan.first().waitFor();
    assert.equal(await plan.count(), 1, 'the one partition the sink consumes');
    assert.equal(
      await plan.locator('[data-field="entries"]').textContent(),
      String(await redisCtx.redis.xlen(stream)),
    );
    assert.deepEqual(await requests.pending(), new Map(), 'a dry run requests nothing');
    await page.click('button[data-action="confirm-replay"]');
    await page.locator('#replay-plan [data-result="ok"]').waitFor();
    assert.deepEqual(await requests.pending(), new Map([[`todo/${partition}`, ZERO_ID]]));

    // Re-drive, after the browser's confirmation dialog.
    page.once('dialog', (dialog) => void dialog.accept());
    await row.locator('button[data-action="redrive"]').click();
    await row.locator('[data-result="ok"]').waitFor();
    assert.equal((await letters.quarantined('todo', partition)).get(key)?.request, 'redrive');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
