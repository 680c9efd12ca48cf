import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCapture } from '../../runtime/capture/capture.ts';
import { oneServerOnly, testEnv } from '../helpers/env.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { freePort, takenPort } from '../support/free-port.ts';
import { startService } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The usual misconfigurations end a service with one log line saying what failed, where and what
 * to do, and the exit code README documents (2 configuration, 3 unreachable, 4 refused, 5 port
 * in use); a server that comes up late is waited for, a line per attempt. Real processes, real
 * servers, real ports.
 */

interface Ended {
  code: number | null;
  /** Every JSON log line the service wrote. */
  lines: Array<Record<string, unknown>>;
  /** Everything it wrote, for assertion messages. */
  output: string;
}

/** Runs a service until it exits by itself (failing the test if it does not within `ms`). */
async function runToExit(name: string, env: Record<string, string>, ms = 60_000): Promise<Ended> {
  const service = startService(name, { LOG_LEVEL: 'info', ...env });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      service.child.kill('SIGKILL');
      reject(new Error(`${name} did not exit within ${ms} ms:\n${service.output()}`));
    }, ms);
    service.child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  // Let the pipes drain.
  await new Promise((resolve) => setImmediate(resolve));
  const output = service.output();
  return { code, lines: jsonLines(output), output };
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The one fatal line of a failed start, checked to be the only one and to carry no stack. */
function fatalLine(ended: Ended): string {
  const fatal = ended.lines.filter((line) => line.level === 60);
  assert.equal(fatal.length, 1, `one fatal line expected:\n${ended.output}`);
  assert.doesNotMatch(ended.output, /^\s+at /m, `no stack trace expected:\n${ended.output}`);
  assert.doesNotMatch(ended.output, /Unhandled error event/, ended.output);
  return String(fatal[0]?.msg);
}

describe('services: clear start failures', {
  // Failures of REDIS_URL (an unreachable server, TLS against a plain port…), which a cluster's
  // REDIS_CLUSTER_NODES would override; the cluster's own are in cli.test.ts.
  skip: oneServerOnly('start failures of a REDIS_URL server'),
  timeout: 240_000,
}, () => {
  let t: TestRedis;
  let dir: string;
  before(async () => {
    t = await createTestRedis('start_failures');
    dir = await mkdtemp(join(tmpdir(), 'cdc-start-failures-'));
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const base = (): Record<string, string> => ({
    CDC_PREFIX: t.capturePrefix,
    REDIS_URL: testEnv.redisUrl,
    CAPTURE_PORT: '0',
  });

  test('capture: Redis unreachable after the startup attempts exits 3, one warning per retried attempt', async () => {
    const port = await freePort();
    const ended = await runToExit('capture', {
      ...base(),
      REDIS_URL: `redis://127.0.0.1:${port}`,
      STARTUP_ATTEMPTS: '3',
      STARTUP_RETRY_MAX_MS: '100',
    });
    assert.equal(ended.code, 3, ended.output);
    const retries = ended.lines.filter((line) => line.level === 40);
    assert.equal(retries.length, 2, ended.output);
    const message = fatalLine(ended);
    assert.match(
      message,
      new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} is still unreachable after 3 attempts`),
    );
    assert.match(message, /ECONNREFUSED/);
    assert.match(message, /check REDIS_URL/);
  });

  test('capture started before Redis waits for it, a line per attempt, and serves once it is up', async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const service = startService('capture', {
      ...base(),
      LOG_LEVEL: 'info',
      REDIS_URL: `redis://127.0.0.1:${port}`,
      CAPTURE_PORT: String(httpPort),
      STARTUP_RETRY_MAX_MS: '300',
    });
    let redis: ChildProcess | undefined;
    try {
      await waitFor(
        'a retry line',
        async () => /not reachable yet/.test(service.output()),
        20_000,
        50,
      );
      redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      await waitFor(
        'capture listening',
        async () => /capture listening/.test(service.output()),
        30_000,
        100,
      );
      const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      assert.equal(health.status, 200, service.output());
      assert.equal(service.child.exitCode, null, service.output());
    } finally {
      await service.kill('SIGKILL');
      redis?.kill('SIGKILL');
    }
  });

  test('capture: an ACL user Redis refuses exits 4 at once, naming the user', async () => {
    const ended = await runToExit('capture', {
      ...base(),
      REDIS_USERNAME: 'no_such_user',
      REDIS_PASSWORD: 'wrong',
      STARTUP_ATTEMPTS: '5',
    });
    assert.equal(ended.code, 4, ended.output);
    assert.equal(ended.lines.filter((line) => line.level === 40).length, 0, 'not retried');
    const message = fatalLine(ended);
    assert.match(message, /refused user "no_such_user"/);
    assert.match(message, /WRONGPASS/);
    assert.doesNotMatch(message, /wrong/, 'the password is not logged');
  });

  test('capture: TLS asked of a plaintext Redis exits 3 saying to check that the port speaks TLS', async () => {
    const url = new URL(testEnv.redisUrl);
    const ended = await runToExit('capture', {
      ...base(),
      REDIS_URL: `rediss://${url.host}`,
      STARTUP_ATTEMPTS: '1',
    });
    assert.equal(ended.code, 3, ended.output);
    const message = fatalLine(ended);
    assert.match(message, /speaks TLS on that port/);
  });

  test('capture: a project file that is not JSON exits 2 naming the file', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ "entities": ');
    const ended = await runToExit('capture', { ...base(), CDC_CONFIG: file });
    assert.equal(ended.code, 2, ended.output);
    assert.match(
      fatalLine(ended),
      new RegExp(`configuration: cannot read the config file CDC_CONFIG="${file}"`),
    );
  });

  test('capture: an incompatible schema change exits 2 with the reason; the registered version stays', async () => {
    const original = await readFile('schemas/todo.avsc', 'utf8');
    const registered = await createCapture({
      redis: { url: testEnv.redisUrl },
      prefix: t.capturePrefix,
      entities: { todo: { schema: JSON.parse(original) } },
    });
    await registered.close();
    const changed = JSON.parse(original) as { fields: Array<{ name: string; type: unknown }> };
    for (const field of changed.fields) if (field.name === 'name') field.type = 'int';
    const schemas = join(dir, 'schemas-incompatible');
    await rm(schemas, { recursive: true, force: true });
    await mkdir(schemas);
    await writeFile(join(schemas, 'todo.avsc'), JSON.stringify(changed));
    const ended = await runToExit('capture', { ...base(), SCHEMAS_DIR: schemas });
    assert.equal(ended.code, 2, ended.output);
    const message = fatalLine(ended);
    assert.match(message, /schema for todo is not backward compatible/);
    assert.match(message, /name/);
    const versions = await t.redis.keys(`${t.prefix}*schema*`);
    assert.ok(versions.length > 0, 'the registry is still there');
  });

  test('capture: a port in use exits 5 naming the address and CAPTURE_PORT', async () => {
    const taken = await takenPort();
    try {
      const ended = await runToExit('capture', { ...base(), CAPTURE_PORT: String(taken.port) });
      assert.equal(ended.code, 5, ended.output);
      const message = fatalLine(ended);
      assert.match(
        message,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken.port}: another process is using it`),
      );
      assert.match(message, /set CAPTURE_PORT/);
    } finally {
      await taken.release();
    }
  });

  test('sink-postgres: a wrong password exits 4 at once, the password masked', async () => {
    const url = new URL(testEnv.postgresUrl);
    url.password = 'not-the-password';
    const ended = await runToExit('sink-postgres', {
      ...base(),
      POSTGRES_URL: url.toString(),
      SINK_NAME: 'start_failures',
    });
    assert.equal(ended.code, 4, ended.output);
    const message = fatalLine(ended);
    assert.match(message, /refused the login \(password authentication failed/);
    assert.match(message, /check the user and password in POSTGRES_URL/);
    assert.doesNotMatch(message, /not-the-password/);
  });

  test('sink-postgres: PostgreSQL unreachable after the startup attempts exits 3', async () => {
    const port = await freePort();
    const ended = await runToExit('sink-postgres', {
      ...base(),
      POSTGRES_URL: `postgres://cdc:cdc@127.0.0.1:${port}/cdc`,
      SINK_NAME: 'start_failures',
      STARTUP_ATTEMPTS: '2',
      STARTUP_RETRY_MAX_MS: '100',
    });
    assert.equal(ended.code, 3, ended.output);
    const message = fatalLine(ended);
    assert.match(
      message,
      new RegExp(
        `PostgreSQL at postgres://cdc:\\*\\*\\*@127\\.0\\.0\\.1:${port}/cdc is still unreachable after 2 attempts`,
      ),
    );
    assert.match(message, /check POSTGRES_URL/);
  });

  test('sink-postgres: its metrics port in use exits 5 naming SINK_METRICS_PORT', async () => {
    const taken = await takenPort();
    try {
      const ended = await runToExit('sink-postgres', {
        ...base(),
        SINK_NAME: 'start_failures',
        SINK_METRICS_PORT: String(taken.port),
      });
      assert.equal(ended.code, 5, ended.output);
      assert.match(fatalLine(ended), /set SINK_METRICS_PORT/);
    } finally {
      await taken.release();
    }
  });

  test('bridge-kafka: brokers unreachable after the startup attempts exits 3 naming KAFKA_BROKERS', async () => {
    const port = await freePort();
    const ended = await runToExit(
      'bridge-kafka',
      {
        ...base(),
        KAFKA_BROKERS: `127.0.0.1:${port}`,
        BRIDGE_NAME: 'start_failures',
        STARTUP_ATTEMPTS: '2',
        STARTUP_RETRY_MAX_MS: '100',
      },
      120_000,
    );
    assert.equal(ended.code, 3, ended.output);
    const message = fatalLine(ended);
    assert.match(
      message,
      new RegExp(`Kafka at 127\\.0\\.0\\.1:${port} is still unreachable after 2 attempts`),
    );
    assert.match(message, /check KAFKA_BROKERS/);
  });

  test('sink-mongo: Redis unreachable exits 3 like every service', async () => {
    const port = await freePort();
    const ended = await runToExit('sink-mongo', {
      ...base(),
      REDIS_URL: `redis://127.0.0.1:${port}`,
      STARTUP_ATTEMPTS: '2',
      STARTUP_RETRY_MAX_MS: '100',
    });
    assert.equal(ended.code, 3, ended.output);
    assert.match(
      fatalLine(ended),
      /Redis at redis:\/\/127\.0\.0\.1:\d+ is still unreachable after 2 attempts/,
    );
  });
});
