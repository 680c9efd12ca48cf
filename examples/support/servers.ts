import { spawnSync } from 'node:child_process';

/** A server of `scripts/servers.sh`. */
export type ServerName = 'redis' | 'postgres' | 'mongo' | 'kafka';

/**
 * Makes sure the servers an example needs answer: when `scripts/servers.sh status` finds them
 * healthy (started by the harness, by `docker compose up`, or your own), nothing is started;
 * otherwise `scripts/servers.sh start` starts them. Checking first matters with Docker: the
 * harness refuses to start a server whose port is taken by a process it did not start.
 */
export function ensureServers(root: string, names: readonly ServerName[]): void {
  const status = spawnSync('bash', ['scripts/servers.sh', 'status', ...names], {
    cwd: root,
    encoding: 'utf8',
  });
  if (status.status === 0) {
    console.log(`== servers: ${names.join(', ')} healthy`);
    return;
  }
  console.log(`== servers: starting ${names.join(', ')} (bash scripts/servers.sh start)`);
  const start = spawnSync('bash', ['scripts/servers.sh', 'start', ...names], {
    cwd: root,
    stdio: 'inherit',
  });
  if (start.status !== 0) {
    throw new Error(
      `bash scripts/servers.sh start ${names.join(' ')} failed (exit ${start.status ?? start.signal}); ` +
        'see its messages above, or point REDIS_URL, POSTGRES_URL and MONGO_URL at running servers',
    );
  }
}
