/**
 * Where the real servers used by integration tests live.
 *
 * The variable names and defaults are the ones `scripts/servers.sh` and `docker-compose.yml`
 * use, so a test finds whatever the harness (or the user's own servers) provides.
 */
export interface TestEnv {
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** `POSTGRES_URL`, default `postgres://cdc:cdc@127.0.0.1:5432/cdc`. */
  readonly postgresUrl: string;
  /** `MONGO_URL`, default `mongodb://127.0.0.1:27017/cdc`. */
  readonly mongoUrl: string;
  /** `KAFKA_BROKERS`, comma-separated `host:port` list, default `127.0.0.1:9092`. */
  readonly kafkaBrokers: string[];
}

function fromEnv(name: string, fallback: string): string {
  const value = process.env[name]?.trim();
  return value ? value : fallback;
}

export const testEnv: TestEnv = {
  redisUrl: fromEnv('REDIS_URL', 'redis://127.0.0.1:6379'),
  postgresUrl: fromEnv('POSTGRES_URL', 'postgres://cdc:cdc@127.0.0.1:5432/cdc'),
  mongoUrl: fromEnv('MONGO_URL', 'mongodb://127.0.0.1:27017/cdc'),
  kafkaBrokers: fromEnv('KAFKA_BROKERS', '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0),
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
