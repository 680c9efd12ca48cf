import pg from 'pg';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { PayloadError } from '../../../runtime/errors/payload-error.ts';
import { isProgrammingError } from '../../../runtime/errors/programming-error.ts';
import {
  type EntityTarget,
  offsetKey,
  type PartitionBatch,
  type PreparedApply,
  positionOf,
  type Sink,
  type SinkEvent,
} from '../../../runtime/sink/sink.ts';
import { splitStreamId, streamIdNumbers } from '../../../runtime/stream-id.ts';
import { BinaryArrayBuilder, ELEMENT_OID, int4Array } from './binary-array.ts';
import { loginRefusal } from './login-refusal.ts';
import { compileTranscoder, type PayloadTranscoder } from './payload-transcoder.ts';
import { mapTable, type TableConfig, type TableMapping, toParam } from './table-mapping.ts';

/** Options of the PostgreSQL sink. */
export interface PostgresSinkOptions {
  /** Connection string, e.g. `postgres://cdc:cdc@127.0.0.1:5432/cdc`. Required. */
  url: string;
  /** Sink name: consumer group, watermarks and offset rows. Default `postgres`. */
  name?: string;
  /** Schema for tables and the offsets table. Default `public`. */
  schema?: string;
  /** Per-entity table configuration. Default: table named after the entity, columns after fields. */
  tables?: Record<string, TableConfig>;
  /** Offsets table name. Default `cdc_offsets`. */
  offsetsTable?: string;
  /** Connection pool size. Default 4. */
  poolSize?: number;
  /** Connection timeout, ms. Default 5000. */
  connectTimeoutMs?: number;
}

const VERSION_MS = '_cdc_ms';
const VERSION_SEQ = '_cdc_seq';
const ident = (name: string): string => pg.escapeIdentifier(name);

/** SQLSTATE classes that pass by themselves: connection, transaction rollback, resources, operator intervention, system. */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);
const TRANSIENT_CODES = new Set(['55P03', '55006']);

/**
 * Applies change events to PostgreSQL tables: per batch, the last event per key, one set-based
 * upsert (unnest + INSERT … ON CONFLICT DO UPDATE … WHERE the stored version is older) and one
 * set-based delete per table, and the partition offsets, all in one transaction. The offsets are
 * also the fence: the transaction first locks them and drops events at or below them, so a
 * batch applied twice (a replay, or a former owner waking up late) changes nothing.
 */
export class PostgresSink implements Sink {
  readonly name: string;
  private readonly options: Required<Omit<PostgresSinkOptions, 'tables'>> & {
    tables: Record<string, TableConfig>;
  };
  private pool: pg.Pool | undefined;
  private readonly mappings = new Map<string, TableMapping>();
  /** Per mapping, per writer schema id: its transcoder, or null where none covers the schema. */
  /** Names of the prepared statements, by statement text (see named()). */
  private readonly prepared = new Map<string, string>();
  private readonly transcoders = new WeakMap<TableMapping, Map<number, PayloadTranscoder | null>>();
  /** Upserts transcode payloads into binary arrays rather than reading decoded records. */
  readonly readsPayloads = true;

  constructor(options: PostgresSinkOptions) {
    if (!options.url || !/^postgres(ql)?:\/\//.test(options.url))
      throw new ConfigError('PostgreSQL sink needs url: postgres://user:password@host:port/db');
    this.options = {
      url: options.url,
      name: options.name ?? 'postgres',
      schema: options.schema ?? 'public',
      tables: options.tables ?? {},
      offsetsTable: options.offsetsTable ?? 'cdc_offsets',
      poolSize: options.poolSize ?? 4,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    };
    this.name = this.options.name;
    for (const name of [this.options.schema, this.options.offsetsTable]) {
      if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(name))
        throw new ConfigError(`"${name}" must be a plain SQL identifier`);
    }
  }

  private get offsets(): string {
    return `${ident(this.options.schema)}.${ident(this.options.offsetsTable)}`;
  }

  async connect(): Promise<void> {
    if (this.pool) return;
    const pool = new pg.Pool({
      connectionString: this.options.url,
      max: this.options.poolSize,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    // A pool connects lazily: one connection now, so that a wrong password or database fails
    // the start, not the first batch (which a sink with no entities yet may not read for days).
    try {
      (await pool.connect()).release();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw loginRefusal(error, this.options.url) ?? error;
    }
    this.pool = pool;
  }

  async ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    const mappings = targets.map((t) =>
      mapTable(t, this.options.tables[t.entity], this.options.schema),
    );
    await this.transaction(async (client) => {
      // DDL of concurrent instances would race on the catalog; one at a time.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cdc-ddl-${this.name}`]);
      for (const schema of new Set([this.options.schema, ...mappings.map((m) => m.schema)])) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      }
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.offsets} (
           sink text NOT NULL, entity text NOT NULL, partition integer NOT NULL,
           stream_id text NOT NULL, ms bigint NOT NULL, seq bigint NOT NULL,
           updated_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (sink, entity, partition))`,
      );
      for (const m of mappings) {
        const table = `${ident(m.schema)}.${ident(m.table)}`;
        const columns = m.columns.map(
          (c) =>
            `${ident(c.column)} ${c.sqlType}${c === m.key ? ' PRIMARY KEY' : c.nullable ? '' : ' NOT NULL'}`,
        );
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(', ')}, ${VERSION_MS} bigint NOT NULL, ${VERSION_SEQ} bigint NOT NULL)`,
        );
        // Schema evolution: new fields become new (nullable) columns; nothing is ever dropped.
        for (const c of m.columns) {
          await client.query(
            `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${ident(c.column)} ${c.sqlType}`,
          );
        }
        await client.query(
          `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${VERSION_MS} bigint NOT NULL DEFAULT 0`,
        );
        await client.query(
          `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${VERSION_SEQ} bigint NOT NULL DEFAULT 0`,
        );
      }
    });
    for (const m of mappings) this.mappings.set(m.entity, m);
  }

  async readOffsets(): Promise<Map<string, string>> {
    const { rows } = await this.pool!.query<{
      entity: string;
      partition: number;
      stream_id: string;
    }>(`SELECT entity, partition, stream_id FROM ${this.offsets} WHERE sink = $1`, [this.name]);
    return new Map(rows.map((r) => [offsetKey(r.entity, r.partition), r.stream_id]));
  }

  async rewindOffset(entity: string, partition: number, id: string): Promise<void> {
    const [ms, seq] = splitStreamId(id);
    await this.pool!.query(
      `INSERT INTO ${this.offsets} AS o (sink, entity, partition, stream_id, ms, seq)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (sink, entity, partition) DO UPDATE
       SET stream_id = EXCLUDED.stream_id, ms = EXCLUDED.ms, seq = EXCLUDED.seq, updated_at = now()`,
      [this.name, entity, partition, id, ms, seq],
    );
  }

  /**
   * One statement per call, so one round trip and an implicit transaction: a first
   * (materialized) query locks this sink's offset rows of the partitions involved, data-modifying
   * queries upsert and delete the last event per key of each entity unless it is at or below
   * its partition's stored offset (the fence: a replay, or a former owner waking up late, changes
   * nothing), and the main query moves the offsets forward. Every part sees the offsets as they
   * were before the statement; the lock makes a concurrent apply of the same partitions wait and
   * then see the offsets it committed.
   */
  async apply(batches: readonly PartitionBatch[]): Promise<void> {
    if (batches.length === 0) return;
    // A payload that cannot be transcoded throws PayloadError here, before any I/O. The runtime
    // reads the stored offsets again before isolating it: an event another owner committed
    // meanwhile is dropped there, not dead-lettered.
    await this.run(this.statement(batches));
  }

  /**
   * The statement built ahead (transcoding is most of this sink's CPU per batch). A payload that
   * cannot be transcoded is left to apply(), which knows how to deal with it.
   */
  prepare(batches: readonly PartitionBatch[]): PreparedApply | undefined {
    if (batches.length === 0) return undefined;
    let statement: { text: string; values: unknown[] };
    try {
      statement = this.statement(batches);
    } catch (err) {
      if (err instanceof PayloadError) return undefined;
      throw err;
    }
    return () => this.run(statement);
  }

  private async run(statement: { text: string; values: unknown[] }): Promise<void> {
    await this.pool!.query({ ...this.named(statement.text), values: statement.values });
  }

  /**
   * The statement as a prepared statement: a batch's statement text depends only on the tables,
   * columns and kinds of change involved, so the few distinct texts are parsed and planned once
   * per connection instead of with every batch. Past MAX_PREPARED texts, new ones run unnamed.
   */
  private named(text: string): { text: string; name?: string } {
    let name = this.prepared.get(text);
    if (name === undefined && this.prepared.size < MAX_PREPARED) {
      name = `cdc_${this.name}_${this.prepared.size}`;
      this.prepared.set(text, name);
    }
    return name === undefined ? { text } : { text, name };
  }

  /** The statement that applies these batches (see apply()). Throws PayloadError. */
  private statement(batches: readonly PartitionBatch[]): { text: string; values: unknown[] } {
    const params: unknown[] = [
      this.name,
      batches.map((b) => b.entity),
      batches.map((b) => b.partition),
    ];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    // The last event per key wins. Re-driven events are at or below the stored offset on
    // purpose: partition -1 matches no stored offset, so the fence lets them through.
    const latest = new Map<string, Map<string, Chosen>>();
    for (const batch of batches) {
      const mapping = this.mappingOf(batch.entity);
      const perKey = latest.get(batch.entity) ?? new Map<string, Chosen>();
      latest.set(batch.entity, perKey);
      const partition = batch.redrive ? -1 : batch.partition;
      for (const event of batch.events) {
        const superseded = perKey.get(event.key);
        if (superseded) this.check(mapping, superseded.event);
        perKey.set(event.key, { event, partition });
      }
    }
    const parts = [
      `stored AS MATERIALIZED (
         SELECT entity, partition, ms, seq FROM ${this.offsets}
          WHERE sink = $1 AND (entity, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
          ORDER BY entity, partition FOR UPDATE)`,
    ];
    for (const [entity, perKey] of latest) {
      const mapping = this.mappingOf(entity);
      const chosen = [...perKey.values()];
      const upserts = chosen.filter((c) => c.event.op === 'upsert');
      const deletes = chosen.filter((c) => c.event.op === 'delete');
      if (upserts.length > 0)
        parts.push(`w${parts.length} AS (${this.upsertSql(mapping, upserts, param)})`);
      if (deletes.length > 0)
        parts.push(`w${parts.length} AS (${this.deleteSql(mapping, deletes, param)})`);
    }
    const ids = batches.map((b) => splitStreamId(b.offset));
    const offsets = param(batches.map((b) => b.offset));
    const ms = param(ids.map((v) => v[0]));
    const seq = param(ids.map((v) => v[1]));
    return {
      text: `WITH ${parts.join(',\n')}
       INSERT INTO ${this.offsets} AS o (sink, entity, partition, stream_id, ms, seq)
       SELECT $1, * FROM unnest($2::text[], $3::int[], ${offsets}::text[], ${ms}::bigint[], ${seq}::bigint[])
       ON CONFLICT (sink, entity, partition) DO UPDATE
         SET stream_id = EXCLUDED.stream_id, ms = EXCLUDED.ms, seq = EXCLUDED.seq, updated_at = now()
         WHERE (o.ms, o.seq) < (EXCLUDED.ms, EXCLUDED.seq)`,
      values: params,
    };
  }

  /** Upsert of the chosen events, skipping those the stored offsets fence off. */
  private upsertSql(m: TableMapping, chosen: Chosen[], param: (value: unknown) => string): string {
    const events = chosen.map((c) => c.event);
    const table = `${ident(m.schema)}.${ident(m.table)}`;
    const values: unknown[] = this.transcode(m, events) ?? [
      ...m.columns.map((c) => events.map((e) => toParam(c, e.record?.[c.field]))),
      ...versionArrays(events),
    ];
    const n = m.columns.length;
    const positions = positionArrays(events);
    const arrays = [
      ...m.columns.map((c, i) => `${param(values[i])}::${c.sqlType}[]`),
      `${param(values[n])}::bigint[]`,
      `${param(values[n + 1])}::bigint[]`,
      `${param(int4Array(chosen.map((c) => c.partition)))}::int[]`,
      ...(positions ? positions.map((p) => `${param(p)}::bigint[]`) : []),
    ];
    const aliases = m.columns.map((_, i) => `c${i}`);
    const names = [...m.columns.map((c) => ident(c.column)), VERSION_MS, VERSION_SEQ];
    const updates = names
      .filter((name) => name !== ident(m.key.column))
      .map((name) => `${name} = EXCLUDED.${name}`);
    return `INSERT INTO ${table} AS t (${names.join(', ')})
       SELECT ${aliases.map((a) => `r.${a}`).join(', ')}, r.ms, r.seq
         FROM unnest(${arrays.join(', ')}) AS r(${aliases.join(', ')}, ms, seq, p${positions ? ', pms, pseq' : ''})
        WHERE ${fence(param(m.entity), 'r', positions !== undefined)}
       ON CONFLICT (${ident(m.key.column)}) DO UPDATE SET ${updates.join(', ')}
       WHERE (t.${VERSION_MS}, t.${VERSION_SEQ}) < (EXCLUDED.${VERSION_MS}, EXCLUDED.${VERSION_SEQ})`;
  }

  /** Delete of the chosen events' keys where the stored row is older and the fence allows. */
  private deleteSql(m: TableMapping, chosen: Chosen[], param: (value: unknown) => string): string {
    const events = chosen.map((c) => c.event);
    const table = `${ident(m.schema)}.${ident(m.table)}`;
    const [ms, seq] = versionArrays(events);
    const positions = positionArrays(events);
    const fenceBy = positions
      ? `, ${param(positions[0])}::bigint[], ${param(positions[1])}::bigint[]`
      : '';
    return `DELETE FROM ${table} AS t
        USING unnest(${param(events.map((e) => e.key))}::${m.key.sqlType}[], ${param(ms)}::bigint[],
                     ${param(seq)}::bigint[], ${param(int4Array(chosen.map((c) => c.partition)))}::int[]${fenceBy})
              AS d(k, ms, seq, p${positions ? ', pms, pseq' : ''})
        WHERE t.${ident(m.key.column)} = d.k
          AND (t.${VERSION_MS}, t.${VERSION_SEQ}) < (d.ms, d.seq)
          AND ${fence(param(m.entity), 'd', positions !== undefined)}`;
  }

  /**
   * The upsert's parameters as binary arrays transcoded from the payloads (columns, then the two
   * version columns), or undefined when some event's writer schema is not one a transcoder
   * covers (or the event has no payload to transcode): then the records are decoded instead.
   */
  private transcode(m: TableMapping, events: SinkEvent[]): Buffer[] | undefined {
    const perEvent: PayloadTranscoder[] = [];
    for (const event of events) {
      const transcoder = this.transcoderOf(m, event);
      if (!transcoder) return undefined;
      perEvent.push(transcoder);
    }
    const columns = perEvent[0]!.builders(events.length);
    const ms = new BinaryArrayBuilder(ELEMENT_OID.bigint!, 64 + events.length * 12);
    const seq = new BinaryArrayBuilder(ELEMENT_OID.bigint!, 64 + events.length * 12);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        perEvent[i]!.append(event.payload!, columns);
      } catch (err) {
        throw undecodable(event, err);
      }
      appendStreamId(event.id, ms, seq);
    }
    perEvent[0]!.learn(columns);
    return [...columns, ms, seq].map((b) => b.finish());
  }

  /** The transcoder for an event's writer schema, if it has a payload and one covers it. */
  private transcoderOf(m: TableMapping, event: SinkEvent): PayloadTranscoder | undefined {
    const { writer, payload } = event;
    if (!writer || !payload) return undefined;
    let compiled = this.transcoders.get(m);
    if (!compiled) {
      compiled = new Map();
      this.transcoders.set(m, compiled);
    }
    let transcoder = compiled.get(writer.id);
    if (transcoder === undefined) {
      transcoder = compileTranscoder(writer, m) ?? null;
      compiled.set(writer.id, transcoder);
    }
    return transcoder ?? undefined;
  }

  /** Throws PayloadError when an upsert that will not be written could not have been either. */
  private check(m: TableMapping, event: SinkEvent): void {
    if (event.op !== 'upsert') return;
    const transcoder = this.transcoderOf(m, event);
    if (!transcoder) {
      void event.record; // decoding it is the check: it throws PayloadError
      return;
    }
    try {
      transcoder.check(event.payload!);
    } catch (err) {
      throw undecodable(event, err);
    }
  }

  private mappingOf(entity: string): TableMapping {
    const mapping = this.mappings.get(entity);
    if (!mapping)
      throw new ConfigError(`no table for entity ${entity}: it was not among the sink's targets`);
    return mapping;
  }

  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool!.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Transient: PostgreSQL errors whose SQLSTATE class says the server, the connection or a
   * concurrent transaction was the problem (https://www.postgresql.org/docs/15/errcodes-appendix.html),
   * and any other error but a programming error (the driver's socket errors). Permanent:
   * everything else the server says about the data (constraints 23xxx, data exceptions 22xxx,
   * undefined objects 42xxx), configuration errors, and bugs (a TypeError in a transcoder would
   * fail again on every retry).
   */
  isTransient(error: unknown): boolean {
    if (error instanceof CdcError) return error.retriable;
    if (isProgrammingError(error)) return false;
    if (error instanceof pg.DatabaseError) {
      const code = error.code ?? '';
      return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
  }
}

/** The version columns of events, as text arrays. */
function versionArrays(events: readonly SinkEvent[]): [string[], string[]] {
  const versions = events.map((e) => splitStreamId(e.id));
  return [versions.map((v) => v[0]), versions.map((v) => v[1])];
}

/**
 * The positions of events as two text arrays, or undefined when every event's position is its
 * version (read from the partition streams): the statement then fences by the version columns,
 * unchanged. Read from Kafka, positions are offsets, and only they compare with stored offsets.
 */
function positionArrays(events: readonly SinkEvent[]): [string[], string[]] | undefined {
  // Identical strings for the partition streams: this costs a pointer comparison per event.
  if (events.every((e) => e.position === undefined || e.position === e.id)) return undefined;
  const positions = events.map((e) => splitStreamId(positionOf(e)));
  return [positions.map((p) => p[0]), positions.map((p) => p[1])];
}

/** Appends a stream id's two halves to the version columns. */
function appendStreamId(id: string, ms: BinaryArrayBuilder, seq: BinaryArrayBuilder): void {
  const numbers = streamIdNumbers(id);
  if (numbers) {
    ms.appendInt8(numbers[0]);
    seq.appendInt8(numbers[1]);
    return;
  }
  // Halves beyond 2^53 (possible with explicit ids): only BigInt holds them exactly.
  const [msPart, seqPart] = splitStreamId(id);
  ms.appendBigInt8(BigInt(msPart));
  seq.appendBigInt8(BigInt(seqPart));
}

function undecodable(event: SinkEvent, cause: unknown): PayloadError {
  return new PayloadError(
    `payload of ${event.entity} "${event.key}" (${event.id}) cannot be decoded with schema ${event.writer?.id}: ${(cause as Error).message}`,
    cause,
  );
}

/** Distinct statement texts a sink prepares at most (see PostgresSink.named). */
const MAX_PREPARED = 64;

/** An event chosen to be written, and the partition whose stored offset fences it (-1: none). */
interface Chosen {
  event: SinkEvent;
  partition: number;
}

/**
 * True for rows (alias `row`, with `ms`, `seq`, `p`) above their partition's stored offset.
 * Offsets are positions: a row's version stands for its position when they are the same (the
 * partition streams), else the row carries its position as `pms`, `pseq` (`byPosition`).
 */
function fence(entity: string, row: string, byPosition: boolean): string {
  const [ms, seq] = byPosition ? ['pms', 'pseq'] : ['ms', 'seq'];
  return `NOT EXISTS (SELECT 1 FROM stored s WHERE s.entity = ${entity} AND s.partition = ${row}.p
                        AND (s.ms, s.seq) >= (${row}.${ms}, ${row}.${seq}))`;
}
