import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from './errors/config-error.ts';

/** How to reach Redis. ACL users and TLS are plain configuration. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** ACL user name; overrides the URL's. */
  username?: string;
  /** Password of the ACL user (or of `default`); overrides the URL's. */
  password?: string;
  /** TLS files; setting any of them turns TLS on even for a `redis://` URL. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  /** Extra ioredis options, merged last. */
  options?: RedisOptions;
}

/** Opens an ioredis connection (lazily connected by ioredis itself). */
export function connectRedis(connection: RedisConnectionOptions = {}): Redis {
  const url = connection.url ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url))
    throw new ConfigError(`Redis URL must start with redis:// or rediss://, got "${url}"`);
  const options: RedisOptions = { ...connection.options };
  if (connection.username !== undefined) options.username = connection.username;
  if (connection.password !== undefined) options.password = connection.password;
  const tls = connection.tls;
  if (tls && (tls.caFile || tls.certFile || tls.keyFile || tls.rejectUnauthorized !== undefined)) {
    // The files join whatever TLS options `options` carries (a pin, a server name), never replace them.
    options.tls = {
      ...(typeof options.tls === 'object' ? options.tls : {}),
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      ...(tls.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: tls.rejectUnauthorized }
        : {}),
    };
  }
  return new Redis(url, options);
}
