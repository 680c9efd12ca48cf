import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { type Env, envBoolean, envInteger, envOptional, envString } from '../config/env.ts';
import { ConfigError } from '../errors/config-error.ts';

/** SASL mechanisms kafkajs 2.2.4 supports with a user name and password. */
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/**
 * How a service reaches Kafka (the bridge, a sink reading Kafka), from the environment:
 *
 * | variable                                          | meaning                                                   | default          |
 * | ------------------------------------------------- | --------------------------------------------------------- | ---------------- |
 * | `KAFKA_BROKERS`                                   | bootstrap `host:port` list, comma-separated               | `127.0.0.1:9092` |
 * | `KAFKA_CLIENT_ID`                                 | client id the brokers log and quota by                    | `clientId`       |
 * | `KAFKA_SSL`                                       | TLS to the brokers (system CAs unless `KAFKA_SSL_CA`)      | off              |
 * | `KAFKA_SSL_CA`, `KAFKA_SSL_CERT`, `KAFKA_SSL_KEY` | PEM files: a private CA, a client certificate and its key | none             |
 * | `KAFKA_SASL_MECHANISM`                            | `plain`, `scram-sha-256` or `scram-sha-512`               | none             |
 * | `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`      | SASL credentials (required with a mechanism)              | none             |
 * | `KAFKA_CONNECTION_TIMEOUT_MS`                     | TCP connect timeout                                       | 3000             |
 * | `KAFKA_REQUEST_TIMEOUT_MS`                        | how long a request may wait for its answer                | 30000            |
 *
 * Any of the TLS files turns TLS on. OAUTHBEARER and AWS IAM, which kafkajs also has, need code
 * (a token provider) and are not offered here. Throws ConfigError naming the variable.
 */
export function kafkaConnectionFromEnv(env: Env, clientId = 'cdc-bridge'): KafkaConfig {
  const brokers = envString(env, 'KAFKA_BROKERS', '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  for (const broker of brokers)
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker))
      throw new ConfigError(
        `KAFKA_BROKERS must be a comma-separated host:port list, got "${broker}"`,
      );
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS names no broker');

  const config: KafkaConfig = {
    brokers,
    clientId: envString(env, 'KAFKA_CLIENT_ID', clientId),
    connectionTimeout: envInteger(env, 'KAFKA_CONNECTION_TIMEOUT_MS', 3000, 1),
    requestTimeout: envInteger(env, 'KAFKA_REQUEST_TIMEOUT_MS', 30_000, 1),
  };

  const ca = envOptional(env, 'KAFKA_SSL_CA');
  const cert = envOptional(env, 'KAFKA_SSL_CERT');
  const key = envOptional(env, 'KAFKA_SSL_KEY');
  if (ca || cert || key) {
    const tls: ConnectionOptions = {};
    if (ca) tls.ca = readPem('KAFKA_SSL_CA', ca);
    if (cert) tls.cert = readPem('KAFKA_SSL_CERT', cert);
    if (key) tls.key = readPem('KAFKA_SSL_KEY', key);
    config.ssl = tls;
  } else if (envBoolean(env, 'KAFKA_SSL', false)) {
    config.ssl = true;
  }

  const mechanism = envOptional(env, 'KAFKA_SASL_MECHANISM')?.toLowerCase();
  if (mechanism !== undefined) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism))
      throw new ConfigError(
        `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}, got "${mechanism}"`,
      );
    const username = envOptional(env, 'KAFKA_SASL_USERNAME');
    const password = envOptional(env, 'KAFKA_SASL_PASSWORD');
    if (!username || !password)
      throw new ConfigError(
        'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
      );
    config.sasl = saslOptions(mechanism as SaslMechanism, username, password);
  }
  return config;
}

function saslOptions(mechanism: SaslMechanism, username: string, password: string): SASLOptions {
  const options = { mechanism, username } as SASLOptions & { password: string };
  // Not enumerable, so a logged or printed configuration never shows it (node-postgres does the
  // same with its connection parameters).
  Object.defineProperty(options, 'password', { value: password, enumerable: false });
  return options;
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read "${path}": ${(err as Error).message}`, err);
  }
}
