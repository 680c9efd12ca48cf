import type { Redis } from 'ioredis';
import { CdcError } from '../errors/cdc-error.ts';
import { parseClusterNodes } from '../redis-cluster-nodes.ts';
import type { RedisConnectionOptions } from '../redis-connection.ts';
import { connectRedis } from '../redis-connection.ts';
import { ServiceStartError } from './service-start-error.ts';
import type { ServerProbe } from './wait-for-server.ts';

/** Errors of a TLS handshake that failed on the client's side: waiting will not fix them. */
const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT)/;
/** Replies to AUTH (or to a command the ACL user may not run) that waiting will not fix. */
const AUTH_REPLIES = /^(WRONGPASS|NOAUTH|NOPERM)/;

/**
 * A probe of the Redis a service is configured for (one server, or the first cluster seed that
 * answers): a connection of its own, never retried by ioredis, that authenticates and sends PING.
 */
export function redisProbe(connection: RedisConnectionOptions): ServerProbe {
  const targets = probeTargets(connection);
  const where = targets.map((t) => t.where).join(',');
  const tlsOn = targets.some((t) => t.tls);
  return {
    server: connection.clusterNodes === undefined ? 'Redis' : 'the Redis Cluster',
    where,
    hint:
      (connection.clusterNodes === undefined
        ? 'check REDIS_URL and that Redis is up'
        : 'check REDIS_CLUSTER_NODES and that the cluster is up') +
      (tlsOn
        ? ' and speaks TLS on that port (rediss:// and REDIS_TLS_* turn TLS on)'
        : '; a server that only speaks TLS needs a rediss:// address'),
    async check() {
      let last: unknown;
      for (const target of targets) {
        try {
          await ping(target);
          return;
        } catch (error) {
          if (error instanceof CdcError && !error.retriable) throw error;
          last = error;
        }
      }
      throw last;
    },
  };
}

interface ProbeTarget {
  readonly connection: RedisConnectionOptions;
  readonly where: string;
  readonly tls: boolean;
}

function probeTargets(connection: RedisConnectionOptions): ProbeTarget[] {
  const tlsFiles = connection.tls !== undefined;
  if (connection.clusterNodes === undefined) {
    const url = connection.url ?? 'redis://127.0.0.1:6379';
    return [
      { connection, where: withoutCredentials(url), tls: tlsFiles || url.startsWith('rediss:') },
    ];
  }
  const seeds =
    typeof connection.clusterNodes === 'string'
      ? parseClusterNodes(connection.clusterNodes)
      : { nodes: [...connection.clusterNodes], tls: false };
  const scheme = seeds.tls ? 'rediss' : 'redis';
  return seeds.nodes.map((node) => {
    const url = `${scheme}://${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}`;
    const { clusterNodes: _nodes, clusterOptions: _options, ...single } = connection;
    return { connection: { ...single, url }, where: url, tls: tlsFiles || seeds.tls };
  });
}

async function ping(target: ProbeTarget): Promise<void> {
  const client: Redis = connectRedis({
    ...target.connection,
    options: {
      ...target.connection.options,
      lazyConnect: true,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 5000,
    },
  });
  // ioredis rejects connect() with a bare "Connection is closed": the reason is the last error
  // event, which a listener also keeps from being printed as unhandled.
  let reason: unknown;
  client.on('error', (error: unknown) => {
    reason = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw refusal(reason ?? error, target) ?? reason ?? error;
  } finally {
    client.disconnect();
  }
}

/** A ServiceStartError('refused') when the error is one waiting cannot fix. */
function refusal(error: unknown, target: ProbeTarget): ServiceStartError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (AUTH_REPLIES.test(error.message)) {
    const user = target.connection.username ?? userOf(target.connection.url) ?? 'default';
    return new ServiceStartError(
      'refused',
      `Redis at ${target.where} refused user "${user}" (${error.message}): check ` +
        'REDIS_USERNAME and REDIS_PASSWORD, and the ACL rules README lists for each component',
      error,
    );
  }
  if (
    (typeof code === 'string' && TLS_CODES.test(code)) ||
    /SSL routines|TLS/i.test(error.message)
  ) {
    return new ServiceStartError(
      'refused',
      `the TLS handshake with Redis at ${target.where} failed (${error.message}): check ` +
        'REDIS_TLS_CA (the CA that signed the server), REDIS_TLS_CERT and REDIS_TLS_KEY, and that ' +
        'the address names the host in the server certificate',
      error,
    );
  }
  return undefined;
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function userOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}
