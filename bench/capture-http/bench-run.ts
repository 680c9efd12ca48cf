import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ChildSink } from '../support/child-sink.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import type { HttpService } from './http-service.ts';
import type { LoadClient } from './load-client.ts';
import type { BenchOptions } from './options.ts';

/**
 * What one run holds: its options, its connections, the names it writes under (a fresh key
 * prefix per subject, a fresh PostgreSQL schema), and everything it must remove at the end (child
 * processes, keys, the schema), also after Ctrl-C.
 */
export class BenchRun {
  readonly services = new Set<HttpService>();
  readonly sinks = new Set<ChildSink>();
  generator: LoadClient | undefined;
  private cleaning: Promise<void> | undefined;

  private constructor(
    readonly options: BenchOptions,
    readonly redisUrl: string,
    readonly postgresUrl: string,
    /** The run's namespace: key prefixes are `<ns>_<subject>`, the schema is `<ns>`. */
    readonly ns: string,
    /** Setup, CPU readings and cleanup only, never what is measured. */
    readonly redis: Redis,
    readonly admin: pg.Pool,
  ) {}

  /** Connects to the servers (REDIS_URL, POSTGRES_URL) under a fresh namespace. */
  static async open(options: BenchOptions): Promise<BenchRun> {
    const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
    const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    admin.on('error', () => undefined);
    const ns = `bench_caphttp_${randomBytes(4).toString('hex')}`;
    const run = new BenchRun(options, redisUrl, postgresUrl, ns, redis, admin);
    // An interrupted run still removes its keys, its schema and its child processes.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        run.log(`${signal}: cleaning up`);
        void run.close().finally(() => process.exit(130));
      });
    }
    return run;
  }

  /** Key prefix (CDC_PREFIX) of one subject. */
  prefix(subject: string): string {
    return `${this.ns}_${subject}`;
  }

  /** POSTGRES_SCHEMA of the sink. */
  get pgSchema(): string {
    return this.ns;
  }

  /** Progress goes to stderr: stdout holds only the report. */
  readonly log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  /** CPU time the Redis server has used so far, µs (INFO cpu: user + system, all clients). */
  async redisCpuMicros(): Promise<number> {
    const info = await this.redis.info('cpu');
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    return Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6);
  }

  async versions(): Promise<{ redis: string; postgres: string }> {
    const postgres = this.options.skipThrough
      ? 'not used'
      : ((await this.admin.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
          .rows[0]?.v ?? 'unknown');
    return {
      redis: (await this.redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
      postgres,
    };
  }

  /** Stops the children, removes the keys and the schema; once, however often called. */
  close(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.generator?.close().catch(() => undefined);
      for (const sink of this.sinks) await sink.stop().catch(() => sink.kill());
      for (const service of this.services) await service.stop().catch(() => undefined);
      await deleteUnder(this.redis, `${this.ns}_*`);
      await this.redis.quit();
      if (!this.options.skipThrough) {
        await this.admin
          .query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(this.pgSchema)} CASCADE`)
          .catch((err: unknown) => this.log(`could not drop schema: ${(err as Error).message}`));
      }
      await this.admin.end();
    })();
    return this.cleaning;
  }
}
