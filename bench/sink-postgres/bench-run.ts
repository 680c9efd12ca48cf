import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import type { ChildSink } from '../support/child-sink.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import { ENTITY, PARTITIONS } from './backlog.ts';
import type { BenchOptions } from './options.ts';
import { RunSchemas } from './run-schemas.ts';

/**
 * What one run of the benchmark holds: its options, its connections, the names it writes under,
 * and everything it must remove at the end (keys, schemas, child services), also after Ctrl-C.
 */
export class BenchRun {
  /** Services still running: stopped if the run ends early. */
  readonly children = new Set<ChildSink>();
  private readonly captures: Capture[] = [];
  private cleaning: Promise<void> | undefined;

  private constructor(
    readonly options: BenchOptions,
    readonly redisUrl: string,
    readonly postgresUrl: string,
    /** Key prefix of the drains. */
    readonly drainPrefix: string,
    /** Key prefix of the freshness phase: its streams start empty. */
    readonly freshPrefix: string,
    readonly redis: Redis,
    /** One connection for setup, checks and cleanup, never for what is measured. */
    readonly admin: pg.Pool,
    readonly schemas: RunSchemas,
    private readonly schema: AvroSchema,
  ) {}

  /** Connects to the servers (REDIS_URL, POSTGRES_URL) under a fresh namespace. */
  static async open(options: BenchOptions): Promise<BenchRun> {
    const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
    const postgresUrl = process.env.POSTGRES_URL?.trim() || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
    const ns = `bench_sinkpg_${randomBytes(4).toString('hex')}`;
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'),
    ) as AvroSchema;
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    admin.on('error', () => undefined);
    const run = new BenchRun(
      options,
      redisUrl,
      postgresUrl,
      ns,
      `${ns}_fresh`,
      redis,
      admin,
      new RunSchemas(admin, postgresUrl, ns),
      schema,
    );
    // An interrupted run still removes its keys, schemas and child processes.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        run.log(`${signal}: cleaning up`);
        void run.close().finally(() => process.exit(130));
      });
    }
    return run;
  }

  /** Progress goes to stderr: stdout holds only the report. */
  readonly log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  /** A capture of the `todo` entity under `prefix`, closed at the end. */
  async openCapture(prefix: string): Promise<Capture> {
    const capture = await createCapture({
      redis: { url: this.redisUrl },
      prefix,
      entities: { [ENTITY]: { schema: this.schema, partitions: PARTITIONS } },
    });
    this.captures.push(capture);
    return capture;
  }

  /** The servers' versions, for the report. */
  async versions(): Promise<{ redis: string; postgres: string }> {
    return {
      redis: (await this.redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
      postgres:
        (await this.admin.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
          .rows[0]?.v ?? 'unknown',
    };
  }

  /** Stops the services and removes the run's keys and schemas; once, however often called. */
  close(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const c of this.children) await c.stop().catch(() => undefined);
      for (const c of this.captures) await c.close().catch(() => undefined);
      await deleteUnder(this.redis, `${this.drainPrefix}:*`);
      await deleteUnder(this.redis, `${this.freshPrefix}:*`);
      await this.redis.quit();
      await this.schemas.dropAll(this.log);
      await this.admin.end();
    })();
    return this.cleaning;
  }
}
