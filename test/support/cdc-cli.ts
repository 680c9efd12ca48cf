import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testRedisEnv } from './test-redis-env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs the operator CLI as operators do, in its own process, against the tests' Redis: the
 * cluster of `REDIS_CLUSTER_NODES` in cluster mode (which then takes precedence over
 * `REDIS_URL`, as for every component), else the server of `REDIS_URL`. `out` is stdout, with
 * stderr after it when the command failed; `err` is stderr.
 */
export async function runCdc(
  prefix: string,
  ...args: [Record<string, string>, ...string[]] | string[]
): Promise<{ code: number; out: string; err: string }> {
  // An object first: more environment (an ACL user, say).
  const [first, ...rest] = args;
  const env = typeof first === 'object' ? first : {};
  const argv = (typeof first === 'object' ? rest : args) as string[];
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'services/cli/src/main.ts', '--prefix', prefix, ...argv],
      { cwd: ROOT, env: { ...process.env, ...testRedisEnv(), ...env } },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}`, err: e.stderr };
  }
}
