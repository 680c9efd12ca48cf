import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Capture } from '../../runtime/capture/capture.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let redisCtx: TestRedis;
let capture: Capture;

before(async () => {
  redisCtx = await createTestRedis('refused');
  capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], 2);
});

after(async () => {
  await capture.close();
  await redisCtx.cleanup();
});

test('a runner whose start is refused leaves nothing open: the program that started it ends by itself', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/refused-start.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: testEnv.redisUrl, CDC_PREFIX: redisCtx.capturePrefix },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Generous: the program only has to start Node and talk to Redis a few times.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  assert.match(output, /refused: ConfigError: cannot use todo/);
  assert.equal(code, 0, `the program did not end by itself (something stayed open):\n${output}`);
});
