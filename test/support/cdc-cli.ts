import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testEnv } from '../helpers/env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the operator CLI as operators do, in its own process, against the test Redis. */
export async function runCdc(
  prefix: string,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'services/cli/src/main.ts', '--prefix', prefix, ...args],
      { cwd: ROOT, env: { ...process.env, REDIS_URL: testEnv.redisUrl } },
    );
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}
