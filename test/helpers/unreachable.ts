import { redactUrl } from './env.ts';

export type ServerName = 'redis' | 'redis-cluster' | 'postgres' | 'mongo' | 'kafka' | 'kafka4';

/**
 * The error a helper throws when its server does not answer: it names the server, where it
 * was looked for and how to start it, so a failed integration run explains itself.
 */
export function unreachableError(server: ServerName, where: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `cannot reach ${server} at ${redactUrl(where)}: ${reason} ` +
      `(start it with: scripts/servers.sh start ${server})`,
    { cause },
  );
}
