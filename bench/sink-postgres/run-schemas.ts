import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import type { EntityTarget } from '../../runtime/sink/sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { ENTITY } from './backlog.ts';

/**
 * The PostgreSQL schemas of a run, one per drain: created fresh, checked and dropped as soon as
 * the drain is done, and whatever is left dropped at the end.
 */
export class RunSchemas {
  /** Schemas created and not dropped yet. */
  private readonly live: string[] = [];

  constructor(
    private readonly admin: pg.Pool,
    private readonly postgresUrl: string,
    /** The run's namespace: every schema is `<ns>_<label>`. */
    private readonly ns: string,
  ) {}

  async create(label: string): Promise<string> {
    const name = `${this.ns}_${label}`;
    this.live.push(name);
    await this.admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
    return name;
  }

  /** Creates the sink's tables in a schema with the sink's own DDL (setup, not measured). */
  async createTables(capture: Capture, pgSchema: string): Promise<void> {
    const sink = new PostgresSink({ url: this.postgresUrl, schema: pgSchema, name: 'bench-setup' });
    await sink.connect();
    try {
      const target: EntityTarget = {
        entity: ENTITY,
        schema: capture.schemaOf(ENTITY),
        keyField: 'id',
      };
      await sink.ensureTargets([target]);
    } finally {
      await sink.close();
    }
  }

  /**
   * Takes the digest of a drained schema's table and drops the schema, then waits for PostgreSQL
   * to go quiet: the next run must not pay for this one's aftermath (autovacuum of 90 000 dead
   * row versions, background writes), whichever side it is.
   */
  async retire(name: string): Promise<string> {
    const digest = await tableDigest(this.admin, name);
    await this.admin.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`);
    this.live.splice(this.live.indexOf(name), 1);
    await settle(this.admin);
    return digest;
  }

  /** Drops every schema left, also after an interrupt. */
  async dropAll(log: (line: string) => void): Promise<void> {
    for (const name of this.live) {
      // After an interrupt a run may still hold locks in the schema: retry past its deadlock.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
          break;
        } catch (err) {
          if (attempt === 5) {
            log(`could not drop schema ${name}: ${(err as Error).message}`);
            break;
          }
          await sleep(200 * attempt);
        }
      }
    }
  }
}

/** Waits (at most 10 s) until no autovacuum worker runs, then a little longer. */
async function settle(admin: pg.Pool): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 200) {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
    );
    if (rows[0]?.n === '0') break;
    await sleep(200);
  }
  await sleep(500);
}

/** Row count and a digest of every row, to check two tables hold the same data. */
async function tableDigest(pool: pg.Pool, pgSchema: string): Promise<string> {
  const table = `${pg.escapeIdentifier(pgSchema)}.${pg.escapeIdentifier(ENTITY)}`;
  const { rows } = await pool.query<{ n: string; digest: string }>(
    `SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t.id)) AS digest FROM ${table} t`,
  );
  return `${rows[0]?.n}:${rows[0]?.digest}`;
}
