/**
 * Where the real servers used by integration tests live.
 *
 * The variable names and defaults are the ones `scripts/servers.sh` and `docker-compose.yml`
 * use, so a test finds whatever the harness (or the user's own servers) provides.
 */
export interface TestEnv {
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /**
   * `REDIS_CLUSTER_NODES` (`host:port,…`), unset by default. Set, the tests that run on a Redis
   * Cluster use it instead of `REDIS_URL` (`scripts/test.sh cluster`), and the others skip.
   */
  readonly redisClusterNodes: string | undefined;
  /** `POSTGRES_URL`, default `postgres://cdc:cdc@127.0.0.1:5432/cdc`. */
  readonly postgresUrl: string;
  /** `MONGO_URL`, default `mongodb://127.0.0.1:27017/cdc`. */
  readonly mongoUrl: string;
  /** `KAFKA_BROKERS`, comma-separated `host:port` list, default `127.0.0.1:9092` (Kafka 3.9). */
  readonly kafkaBrokers: string[];
  /** `KAFKA4_BROKERS`, comma-separated `host:port` list, default `127.0.0.1:9192` (Kafka 4.x). */
  readonly kafka4Brokers: string[];
}

function fromEnv(name: string, fallback: string): string {
  const value = process.env[name]?.trim();
  return value ? value : fallback;
}

function brokerList(value: string): string[] {
  return value
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

export const testEnv: TestEnv = {
  redisUrl: fromEnv('REDIS_URL', 'redis://127.0.0.1:6379'),
  redisClusterNodes: process.env.REDIS_CLUSTER_NODES?.trim() || undefined,
  postgresUrl: fromEnv('POSTGRES_URL', 'postgres://cdc:cdc@127.0.0.1:5432/cdc'),
  mongoUrl: fromEnv('MONGO_URL', 'mongodb://127.0.0.1:27017/cdc'),
  kafkaBrokers: brokerList(fromEnv('KAFKA_BROKERS', '127.0.0.1:9092')),
  kafka4Brokers: brokerList(fromEnv('KAFKA4_BROKERS', '127.0.0.1:9192')),
};

/**
 * The URL with its password masked, for messages that tell a user which server was unreachable.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * For a test's `skip` option: in cluster mode (`REDIS_CLUSTER_NODES` set), why it cannot run on
 * a Redis Cluster yet, naming what is missing; otherwise false, and it runs.
 */
export function notOnClusterYet(missing: string): string | false {
  return testEnv.redisClusterNodes === undefined ? false : `not on a Redis Cluster yet: ${missing}`;
}

/**
 * For a test's `skip` option: in cluster mode, why the test is about one server and has no
 * cluster counterpart (a proxy in front of the server, its own restart); otherwise false.
 */
export function oneServerOnly(why: string): string | false {
  return testEnv.redisClusterNodes === undefined ? false : `one Redis server only: ${why}`;
}
