import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Capture } from '../../runtime/capture/capture.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { testRedisEnv } from '../support/test-redis-env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** `npx <args>` in a folder, against the tests' Redis: exit code and output. */
async function npx(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('npx', ['--no-install', ...args], {
      cwd,
      env: { ...process.env, ...testRedisEnv() },
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('the cdc command of package.json "bin"', { timeout: 300_000 }, () => {
  let redisCtx: TestRedis;
  let capture: Capture;
  let dir: string;

  before(async () => {
    redisCtx = await createTestRedis('cli_bin');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], 1);
    dir = await mkdtemp(join(tmpdir(), 'cdc-bin-'));
  });

  after(async () => {
    await capture.close();
    await redisCtx.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('npx cdc in a checkout runs the CLI from its sources', async () => {
    const help = await npx(ROOT, 'cdc', '--help');
    assert.equal(help.code, 0, help.out);
    assert.match(help.out, /^Usage: cdc /);
    for (const command of ['lag', 'sinks', 'schemas', 'replay', 'trim'])
      assert.match(help.out, new RegExp(`\\n  ${command} `));
    const list = await npx(
      ROOT,
      'cdc',
      '--prefix',
      redisCtx.capturePrefix,
      '--json',
      'schemas',
      'list',
    );
    assert.equal(list.code, 0, list.out);
    assert.deepEqual(
      (JSON.parse(list.out) as { schemas: Array<{ entity: string }> }).schemas.map((s) => s.entity),
      ['todo'],
    );
  });

  test('installed from the packed tarball, npx cdc runs with what the package ships', async () => {
    await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT });
    const [tarball] = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    // The dependencies come from the npm cache the checkout was installed from.
    await run(
      'npm',
      [
        'install',
        join(dir, tarball),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
      ],
      { cwd: app },
    );
    const help = await npx(app, 'cdc', '--help');
    assert.equal(help.code, 0, help.out);
    assert.match(help.out, /^Usage: cdc /);
    const lag = await npx(app, 'cdc', '--prefix', redisCtx.capturePrefix, '--json', 'lag');
    assert.equal(lag.code, 0, lag.out);
    assert.deepEqual(JSON.parse(lag.out), { streams: [], kafka_sinks: [], bridges: [] });
    // The registry loads its Lua scripts from files: they travel with the runtime.
    const list = await npx(app, 'cdc', '--prefix', redisCtx.capturePrefix, 'schemas', 'list');
    assert.equal(list.code, 0, list.out);
    assert.match(list.out, /\ntodo +1 +1 /);
  });
});
