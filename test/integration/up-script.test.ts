import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { freePort, takenPort } from '../support/free-port.ts';
import { testRedisEnv } from '../support/test-redis-env.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * `npm run up` (scripts/up.sh), the quick start's main job, as a user runs it: Ctrl-C (SIGINT to
 * its whole process group, as a terminal sends it) stops the services and exits 0 saying so; a
 * service that ends by itself ends it with 1, naming the service and the end of its log.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Up {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startUp(env: Record<string, string>): Up {
  // Its own process group, so that a signal can go to all of it as a terminal's Ctrl-C does.
  const child = spawn('npm', ['run', '--silent', 'up'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
}

/** Signals the whole process group of `npm run up`, if any of it is left. */
function killGroup(up: Up, signal: NodeJS.Signals): void {
  try {
    process.kill(-(up.child.pid as number), signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms),
    ),
  ]);
}

describe('npm run up', {
  timeout: 240_000,
}, () => {
  let t: TestRedis;
  let pg: TestPostgres;
  before(async () => {
    t = await createTestRedis('up_script');
    pg = await createTestPostgres('up_script');
  });
  after(async () => {
    await t.cleanup();
    await pg.cleanup();
  });

  /** The test's own keys, schema and capture port; capture and the PostgreSQL sink only. */
  const upEnv = (port: number): Record<string, string> => ({
    CDC_PREFIX: t.capturePrefix,
    CAPTURE_PORT: String(port),
    UP_SINKS: 'postgres',
    POSTGRES_SCHEMA: pg.schema,
    ...testRedisEnv(),
    POSTGRES_URL: testEnv.postgresUrl,
  });

  test('prints where capture and the lag page are; Ctrl-C stops the services and exits 0', async () => {
    const port = await freePort();
    const up = startUp(upEnv(port));
    try {
      await waitFor(
        'the banner',
        async () => /Capture is listening/.test(up.output()),
        120_000,
        100,
      );
      assert.match(up.output(), new RegExp(`Lag page: http://127\\.0\\.0\\.1:${port}/dashboard`));
      const put = await fetch(`http://127.0.0.1:${port}/entities/todo/up1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'from the quick start' }),
      });
      assert.equal(put.status, 200, await put.text());
      // The sink started too: the row arrives.
      await waitFor(
        'the row in PostgreSQL',
        async () => {
          const found = await pg.pool
            .query('SELECT 1 FROM todo WHERE id = $1', ['up1'])
            .catch(() => undefined);
          return (found?.rowCount ?? 0) === 1;
        },
        60_000,
        200,
      );
      killGroup(up, 'SIGINT');
      const code = await withDeadline(up.exited, 30_000, 'npm run up did not exit after Ctrl-C');
      assert.equal(code, 0, up.output());
      assert.match(up.output(), /stopped the services/);
      assert.doesNotMatch(up.output(), /exited \(status/);
      const afterwards = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      assert.equal(afterwards, undefined, 'capture no longer listens');
    } finally {
      killGroup(up, 'SIGKILL');
    }
  });

  test('a service that ends by itself ends it with 1, naming the service and its last log lines', async () => {
    const port = await freePort();
    // The sink's metrics port is taken: it ends itself with exit code 5.
    const taken = await takenPort();
    const up = startUp({ ...upEnv(port), SINK_METRICS_PORT: String(taken.port) });
    try {
      const code = await withDeadline(up.exited, 120_000, 'npm run up did not exit');
      assert.equal(code, 1, up.output());
      assert.match(up.output(), /sink-postgres exited \(status 5\)/);
      assert.match(up.output(), /set SINK_METRICS_PORT/);
      const afterwards = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      assert.equal(afterwards, undefined, 'capture was stopped with it');
    } finally {
      killGroup(up, 'SIGKILL');
      await taken.release();
    }
  });
});
