import type avro from 'avsc';
import { CaptureWriteCode, defineCommands } from '../commands/index.ts';
import { consumerGroups } from '../consumer-groups.ts';
import { ConfigError } from '../errors/config-error.ts';
import { ConflictError } from '../errors/conflict-error.ts';
import { NoSinksError } from '../errors/no-sinks-error.ts';
import { NotFoundError } from '../errors/not-found-error.ts';
import { ReplicationUnconfirmedError } from '../errors/replication-unconfirmed-error.ts';
import { UnknownEntityError } from '../errors/unknown-entity-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import { WriteThroughFailedError } from '../errors/write-through-failed-error.ts';
import { Instrumentation } from '../instrumentation/instrumentation.ts';
import { Keys } from '../keys.ts';
import { partitionOf } from '../partition.ts';
import { isRedisClient, type RedisClient } from '../redis-client.ts';
import { connectRedisClient, quietErrors } from '../redis-connection.ts';
import { commandFailure } from '../redis-errors.ts';
import { type RetryOptions, retry } from '../retry.ts';
import { recordFields } from '../schema/avro-schema.ts';
import { parseExactJson } from '../schema/exact-json.ts';
import { LONG_RANGE, toExactLong } from '../schema/exact-long-type.ts';
import { type EntityRecord, prepareWrite } from '../schema/prepare-record.ts';
import { type RegisteredSchema, SchemaRegistry } from '../schema/schema-registry.ts';
import { compareStreamIds } from '../stream-id.ts';
import { NotAppliedMarks } from '../watermark/not-applied-marks.ts';
import { WatermarkWaiter } from '../watermark/watermark-waiter.ts';
import {
  type CaptureOptions,
  positiveInteger,
  type ResolvedEntityOptions,
  resolveEntityOptions,
  type WriteMode,
} from './capture-options.ts';
import {
  type CaptureWriteReply,
  captureWriteCall,
  captureWriteReplies,
} from './capture-write-call.ts';
import { EntityMetadataStore } from './entity-metadata.ts';
import { GroupCommit } from './group-commit.ts';
import type { PreparedWrite } from './prepared-write.ts';

/** Per-call options of a write. */
export interface WriteOptions {
  /** Overrides the entity's write mode for this call. */
  mode?: WriteMode;
  /** A repeat of this key within the idempotency window returns the first result, writing nothing. */
  idempotencyKey?: string;
  /** Carried in the event for tracing across services. */
  traceId?: string;
  /** Overrides the write-through timeout for this call, ms. */
  timeoutMs?: number;
}

/** What a write did. */
export interface WriteResult {
  entity: string;
  key: string;
  /** Stream id of the event (of the first event, for an idempotent repeat). */
  id: string;
  partition: number;
  /** True when an idempotency key matched an earlier write and nothing was written. */
  duplicate: boolean;
  mode: WriteMode;
  /** For `through`: the sinks that confirmed the event. */
  appliedBy?: string[];
}

/** A cached entity value. */
export interface CachedValue {
  record: EntityRecord;
  /** Stream id of the event that wrote it. */
  version: string;
  schemaId: number;
}

/** One write of a batch. */
export type BatchWrite =
  | { op: 'upsert'; record: unknown; idempotencyKey?: string }
  | { op: 'delete'; key: string; idempotencyKey?: string };

interface EntityState {
  name: string;
  options: ResolvedEntityOptions;
  schema: RegisteredSchema;
  keyType: 'string' | 'int' | 'long';
}

const GROUPS_CACHE_MS = 1000;
/** How the retrier tries again a compare-and-set write (a patch) that lost its race. */
const CAS_RETRY: RetryOptions = {
  /** Then the ConflictError of the last attempt is thrown. */
  attempts: 50,
  // Short pauses, as a lost race is over once the other write landed; jittered, so that writers
  // that lost the same race do not collide again in lockstep.
  backoff: { initialMs: 1, maxMs: 50 },
  // Only a lost race: a write whose answer was lost may have been applied.
  isRetriable: (error) => error instanceof ConflictError,
};
/** Most writes per capture-write call: bounds how long one call holds Redis. */
const WRITE_CHUNK = 50;

/**
 * Writes entities: the cache value and its change event in one atomic Redis script, so the
 * cache never holds a value whose event is not in the log, nor the reverse.
 *
 * A Redis command that fails without an error reply (no connection, a lost one, a "not now"
 * reply) is rethrown where it was sent as RedisUnavailableError (`commandFailure`): only there is
 * it known to come from Redis, so callers decide by type, never by message.
 */
export class Capture {
  readonly keys: Keys;
  readonly registry: SchemaRegistry;
  readonly instrumentation: Instrumentation;
  private readonly redis: RedisClient;
  private readonly ownsRedis: boolean;
  private readonly entities = new Map<string, EntityState>();
  /** Single writes arriving while their partition's call is in flight go in its next call. */
  private readonly groupCommit = new GroupCommit(
    (writes, traceId) => this.call(writes, traceId),
    WRITE_CHUNK,
  );
  private readonly idempotencyWindowMs: number;
  private readonly writeThroughTimeoutMs: number;
  private waiter: WatermarkWaiter | undefined;
  private marks: NotAppliedMarks | undefined;
  private subscriber: RedisClient | undefined;
  private readonly groupsCache = new Map<string, { at: number; groups: string[] }>();

  private constructor(options: CaptureOptions) {
    this.keys = new Keys(options.prefix ?? 'cdc');
    this.ownsRedis = !isRedisClient(options.redis);
    this.redis = isRedisClient(options.redis) ? options.redis : connectRedisClient(options.redis);
    defineCommands(this.redis);
    this.registry = new SchemaRegistry(this.redis, this.keys);
    this.instrumentation = options.instrumentation ?? new Instrumentation();
    this.idempotencyWindowMs = positiveInteger(
      'idempotencyWindowMs',
      options.idempotencyWindowMs,
      86_400_000,
    );
    this.writeThroughTimeoutMs = positiveInteger(
      'writeThroughTimeoutMs',
      options.writeThroughTimeoutMs,
      5000,
    );
  }

  /** Validates the options, registers the configured schemas and pins partition counts. */
  static async create(options: CaptureOptions): Promise<Capture> {
    const resolved = Object.entries(options.entities ?? {}).map(
      ([name, o]) => [name, resolveEntityOptions(name, o)] as const,
    );
    if (resolved.length === 0) throw new ConfigError('capture needs at least one entity');
    const capture = new Capture(options);
    try {
      const metadata = new EntityMetadataStore(capture.redis, capture.keys);
      for (const [name, entityOptions] of resolved) {
        const schema = entityOptions.schema
          ? await capture.registry.register(name, entityOptions.schema)
          : await capture.registry.latest(name);
        // Checked before pinning: a key field the schema lacks must not reach the metadata.
        const keyType = keyTypeOf(name, schema.type, entityOptions.keyField);
        await metadata.pin(name, {
          partitions: entityOptions.partitions,
          keyField: entityOptions.keyField,
        });
        capture.entities.set(name, { name, options: entityOptions, schema, keyType });
      }
    } catch (err) {
      await capture.close();
      throw err;
    }
    return capture;
  }

  /** Entity names this capture writes. */
  entityNames(): string[] {
    return [...this.entities.keys()];
  }

  /** The schema this capture writes an entity with. */
  schemaOf(entity: string): RegisteredSchema {
    return this.entity(entity).schema;
  }

  /** Writes the whole record (insert or replace). The key comes from the record's key field. */
  async upsert(
    entity: string,
    record: unknown,
    options: WriteOptions & { key?: string } = {},
  ): Promise<WriteResult> {
    const state = this.entity(entity);
    const prepared = this.prepareUpsert(state, record, options.key, options.idempotencyKey);
    return this.write(state, prepared, options);
  }

  /**
   * Changes some fields of a cached record. The merged record is validated against the schema
   * and written with the whole record in its event, so sinks and replays never see a partial one.
   * The write is a compare-and-set on the cached version: if another write lands in between, the
   * patch is merged again onto the newer value, so concurrent patches of different fields all
   * survive. Throws NotFoundError when the key is not cached.
   */
  async patch(
    entity: string,
    key: string,
    fields: unknown,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const state = this.entity(entity);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new ValidationError(entity, [
        { path: '', message: 'expected a JSON object with the fields to change' },
      ]);
    }
    const changes = fields as Record<string, unknown>;
    const keyField = state.options.keyField;
    if (changes[keyField] !== undefined && String(changes[keyField]) !== key) {
      throw new ValidationError(entity, [
        { path: keyField, message: 'the key of a record cannot change' },
      ]);
    }
    const prepare = async (): Promise<PreparedWrite> => {
      const cached = await this.get(entity, key);
      if (!cached) throw new NotFoundError(entity, key);
      const prepared = this.prepareUpsert(
        state,
        { ...cached.record, ...changes },
        key,
        options.idempotencyKey,
      );
      return { ...prepared, expectedVersion: cached.version };
    };
    return this.write(state, await prepare(), options, prepare);
  }

  /** Removes the key from the cache and appends a delete event. */
  async delete(entity: string, key: string, options: WriteOptions = {}): Promise<WriteResult> {
    const state = this.entity(entity);
    const prepared = this.prepareDelete(state, key, options.idempotencyKey);
    return this.write(state, prepared, options);
  }

  /** The cached value of a key, or undefined. */
  async get(entity: string, key: string): Promise<CachedValue | undefined> {
    const state = this.entity(entity);
    const cacheKey = this.keys.cache(entity, partitionOf(key, state.options.partitions), key);
    const [d, v, s] = await this.redis.hmget(cacheKey, 'd', 'v', 's').catch((err: unknown) => {
      throw commandFailure(err, 'HMGET');
    });
    if (d == null || v == null || s == null) return undefined;
    // Longs beyond ±(2^53 − 1) are written as their digits and read back as BigInts.
    return { record: parseExactJson(d) as EntityRecord, version: v, schemaId: Number(s) };
  }

  /**
   * Writes many changes of one entity in one pipeline. Every write is validated first: if any is
   * invalid nothing is written and the ValidationError names the index of each bad write. Each
   * write is atomic on its own, and so is each script call (one partition, up to WRITE_CHUNK
   * writes), never the batch: a batch cut by a disconnect leaves whole writes only, and on a
   * Redis Cluster, where partitions live on different nodes, a batch that fails on one node may
   * have been written on the others. A retry with the same batch idempotency key then writes only
   * what is missing.
   */
  async writeMany(
    entity: string,
    writes: readonly BatchWrite[],
    options: WriteOptions = {},
  ): Promise<WriteResult[]> {
    const state = this.entity(entity);
    const prepared: PreparedWrite[] = [];
    const issues: ValidationError['issues'][number][] = [];
    writes.forEach((write, index) => {
      // A batch-level idempotency key covers every write: a retried batch repeats nothing.
      const idempotencyKey =
        write.idempotencyKey ??
        (options.idempotencyKey ? `${options.idempotencyKey}#${index}` : undefined);
      try {
        prepared.push(
          write.op === 'upsert'
            ? this.prepareUpsert(state, write.record, undefined, idempotencyKey)
            : this.prepareDelete(state, write.key, idempotencyKey),
        );
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues)
          issues.push({
            path: issue.path ? `[${index}].${issue.path}` : `[${index}]`,
            message: issue.message,
          });
      }
    });
    if (issues.length > 0) throw new ValidationError(entity, issues);
    const mode = options.mode ?? state.options.writeMode;
    const sinks =
      mode === 'through'
        ? await this.requiredSinks(state, [...new Set(prepared.map((p) => p.partition))])
        : [];
    const started = performance.now();
    const replies = await this.send(prepared, options.traceId);
    const results = prepared.map((write, i) => this.toResult(write, replies[i]!, mode, started));
    if (mode === 'through') {
      await this.waitForSinks(state, results, sinks, options.timeoutMs);
      for (const result of results) result.appliedBy = sinks;
    }
    return results;
  }

  /**
   * Runs one prepared write, a batch of one. A compare-and-set write (a patch) comes with
   * `prepareAgain`: when it lost its race, the retrier prepares it again onto the newer value and
   * tries once more, as CAS_RETRY says. Other writes cannot lose a race and are written once.
   */
  private async write(
    entity: EntityState,
    prepared: PreparedWrite,
    options: WriteOptions,
    prepareAgain?: () => Promise<PreparedWrite>,
  ): Promise<WriteResult> {
    const mode = options.mode ?? entity.options.writeMode;
    // Resolved before writing: a write-through nobody can confirm is refused, not half-done.
    const sinks = mode === 'through' ? await this.requiredSinks(entity, [prepared.partition]) : [];
    const started = performance.now();
    const result =
      prepareAgain === undefined
        ? await this.writeOne(prepared, mode, started, options.traceId)
        : await retry(async (attempt) => {
            const write = attempt === 1 ? prepared : await prepareAgain();
            return this.writeOne(write, mode, started, options.traceId);
          }, CAS_RETRY);
    if (mode === 'through') {
      await this.waitForSinks(entity, [result], sinks, options.timeoutMs);
      result.appliedBy = sinks;
    }
    return result;
  }

  /** One write through the capture-write script; a lost compare-and-set is a ConflictError. */
  private async writeOne(
    write: PreparedWrite,
    mode: WriteMode,
    started: number,
    traceId: string | undefined,
  ): Promise<WriteResult> {
    const reply = await this.groupCommit.write(write, traceId);
    return this.toResult(write, reply, mode, started);
  }

  private toResult(
    write: PreparedWrite,
    reply: CaptureWriteReply,
    mode: WriteMode,
    started: number,
  ): WriteResult {
    if (reply.code === CaptureWriteCode.VersionMismatch) {
      throw new ConflictError(`${write.entity} "${write.key}" changed while it was being written`);
    }
    const duplicate = reply.code === CaptureWriteCode.Duplicate;
    this.instrumentation.emit('capture.written', {
      entity: write.entity,
      partition: write.partition,
      op: write.op,
      durationMs: performance.now() - started,
      duplicate,
    });
    return {
      entity: write.entity,
      key: write.key,
      id: reply.id,
      partition: write.partition,
      duplicate,
      mode,
    };
  }

  /**
   * Runs a batch through capture-write.lua, one call per partition and per WRITE_CHUNK writes;
   * returns each write's reply in the batch's order.
   */
  private async send(
    writes: readonly PreparedWrite[],
    traceId: string | undefined,
  ): Promise<CaptureWriteReply[]> {
    const byPartition = new Map<number, number[]>();
    writes.forEach((write, i) => {
      const indexes = byPartition.get(write.partition);
      if (indexes) indexes.push(i);
      else byPartition.set(write.partition, [i]);
    });
    const chunks: number[][] = [];
    for (const indexes of byPartition.values()) {
      for (let i = 0; i < indexes.length; i += WRITE_CHUNK) {
        chunks.push(indexes.slice(i, i + WRITE_CHUNK));
      }
    }
    // Each call goes to the socket as soon as it is built (no MULTI, no buffered pipeline), so
    // Redis runs one chunk while the next is being prepared.
    const calls = chunks.map((chunk) =>
      this.call(
        chunk.map((i) => writes[i]!),
        traceId,
      ),
    );
    // Every call settles before any failure is thrown: none is left to reject unobserved.
    const settled = await Promise.allSettled(calls);
    const replies: CaptureWriteReply[] = new Array(writes.length);
    settled.forEach((result, c) => {
      if (result.status === 'rejected') throw result.reason;
      const chunk = chunks[c]!;
      result.value.forEach((reply, j) => {
        replies[chunk[j]!] = reply;
      });
    });
    return replies;
  }

  /** One capture-write.lua call: writes of one partition, as many as the script may take at once. */
  private async call(
    writes: readonly PreparedWrite[],
    traceId: string | undefined,
  ): Promise<CaptureWriteReply[]> {
    const { keys, args } = captureWriteCall(this.keys, writes, this.idempotencyWindowMs, traceId);
    const entity = writes[0]?.entity;
    if (entity !== undefined) {
      this.instrumentation.emit('capture.called', {
        entity,
        partition: writes[0]!.partition,
        writes: writes.length,
      });
    }
    const wait =
      entity === undefined ? undefined : this.entities.get(entity)?.options.waitForReplicas;
    if (wait !== undefined && entity !== undefined) {
      return this.callAndWait(entity, keys, args, writes.length, wait);
    }
    const reply = await this.redis
      .captureWrite(keys.length, ...keys, ...args)
      .catch((err: unknown) => {
        throw commandFailure(err, 'capture-write');
      });
    return captureWriteReplies(reply, writes.length);
  }

  /**
   * The write and a WAIT in one pipeline: WAIT counts the replicas holding this connection's
   * writes, so it must follow the write on the connection that carried it; on a Redis Cluster a
   * pipeline goes to the node of its keys (the partition's slot), WAIT with it.
   */
  private async callAndWait(
    entity: string,
    keys: readonly string[],
    args: ReadonlyArray<string | number | Buffer>,
    count: number,
    wait: { replicas: number; timeoutMs: number },
  ): Promise<CaptureWriteReply[]> {
    const results = await this.redis
      .pipeline()
      .captureWrite(keys.length, ...keys, ...args)
      .wait(wait.replicas, wait.timeoutMs)
      .exec()
      .catch((err: unknown) => {
        throw commandFailure(err, 'capture-write');
      });
    const [written, waited] = results ?? [];
    if (!written || written[0]) throw commandFailure(written?.[0], 'capture-write');
    const replies = captureWriteReplies(written[1] as Array<string | number>, count);
    if (!waited || waited[0]) throw commandFailure(waited?.[0], 'capture-write');
    const confirmed = Number(waited[1]);
    if (confirmed < wait.replicas) {
      throw new ReplicationUnconfirmedError(entity, confirmed, wait.replicas, wait.timeoutMs);
    }
    return replies;
  }

  private prepareUpsert(
    entity: EntityState,
    input: unknown,
    explicitKey: string | undefined,
    idempotencyKey: string | undefined,
  ): PreparedWrite {
    const keyField = entity.options.keyField;
    let candidate = input;
    if (
      explicitKey !== undefined &&
      typeof input === 'object' &&
      input !== null &&
      !Array.isArray(input)
    ) {
      const given = (input as Record<string, unknown>)[keyField];
      if (given === undefined) {
        // Object.assign, not a spread with a computed key: on a body fresh from JSON.parse the
        // spread took about three times as long, on every keyed write's path.
        candidate = Object.assign({}, input, { [keyField]: this.keyValue(entity, explicitKey) });
      } else if (String(given) !== explicitKey) {
        throw new ValidationError(entity.name, [
          {
            path: keyField,
            message: `is ${JSON.stringify(given)} but the write addresses key "${explicitKey}"`,
          },
        ]);
      }
    }
    const { record, encodable } = prepareWrite(entity.name, entity.schema.type, candidate);
    const key = String(record[keyField]);
    checkKey(entity.name, key);
    return {
      entity: entity.name,
      schemaId: entity.schema.id,
      op: 'upsert',
      key,
      partition: partitionOf(key, entity.options.partitions),
      record,
      payload: entity.schema.type.toBuffer(encodable),
      idempotencyKey: checkIdempotencyKey(entity.name, idempotencyKey),
      expectedVersion: '',
    };
  }

  private prepareDelete(
    entity: EntityState,
    key: string,
    idempotencyKey: string | undefined,
  ): PreparedWrite {
    checkKey(entity.name, key);
    this.keyValue(entity, key);
    return {
      entity: entity.name,
      schemaId: entity.schema.id,
      op: 'delete',
      key,
      partition: partitionOf(key, entity.options.partitions),
      record: undefined,
      payload: undefined,
      idempotencyKey: checkIdempotencyKey(entity.name, idempotencyKey),
      expectedVersion: '',
    };
  }

  /** Converts a key given as text (a URL segment) to the key field's type. */
  private keyValue(entity: EntityState, key: string): string | number | bigint {
    if (entity.keyType === 'string') return key;
    const value = entity.keyType === 'long' ? toExactLong(key) : toInt(key);
    if (value === undefined) {
      const range = entity.keyType === 'long' ? LONG_RANGE : INT_RANGE;
      throw new ValidationError(entity.name, [
        { path: entity.options.keyField, message: `key "${key}" must be ${range}` },
      ]);
    }
    return value;
  }

  private async requiredSinks(entity: EntityState, partitions: number[]): Promise<string[]> {
    if (entity.options.requiredSinks) {
      if (entity.options.requiredSinks.length === 0) throw new NoSinksError(entity.name);
      return entity.options.requiredSinks;
    }
    const names = new Set<string>();
    for (const partition of partitions) {
      for (const group of await this.consumerGroups(entity.name, partition)) names.add(group);
    }
    if (names.size === 0) throw new NoSinksError(entity.name);
    return [...names].sort();
  }

  private async consumerGroups(entity: string, partition: number): Promise<string[]> {
    const stream = this.keys.stream(entity, partition);
    const cached = this.groupsCache.get(stream);
    if (cached && Date.now() - cached.at < GROUPS_CACHE_MS) return cached.groups;
    const groups = (
      await consumerGroups(this.redis, stream).catch((err: unknown) => {
        throw commandFailure(err, 'XINFO GROUPS');
      })
    ).map((g) => g.name);
    // An empty answer is not cached, so a sink that just started is seen by the next write.
    if (groups.length > 0) this.groupsCache.set(stream, { at: Date.now(), groups });
    return groups;
  }

  private async waitForSinks(
    entity: EntityState,
    results: WriteResult[],
    sinks: string[],
    timeoutMs: number | undefined,
  ): Promise<void> {
    const started = performance.now();
    const highest = new Map<number, string>();
    for (const r of results) {
      const seen = highest.get(r.partition);
      // An idempotent repeat returns its earlier id, so the last result is not always the highest.
      if (seen === undefined || compareStreamIds(r.id, seen) > 0) highest.set(r.partition, r.id);
    }
    const waiter = this.watermarkWaiter();
    let timedOut = false;
    try {
      await Promise.all(
        [...highest].map(([partition, id]) =>
          waiter.wait(entity.name, partition, id, sinks, timeoutMs ?? this.writeThroughTimeoutMs),
        ),
      );
    } catch (err) {
      timedOut = true;
      throw commandFailure(err, 'the applied-watermark wait');
    } finally {
      this.instrumentation.emit('capture.through.waited', {
        entity: entity.name,
        durationMs: performance.now() - started,
        timedOut,
      });
    }
    // Every sink is past the events; those it dead-lettered or held left a mark. One MGET per
    // partition for the checks of this turn, this write's and those of the writes the same
    // announcement released (NotAppliedMarks): a result's marks share its partition's slot, but
    // one command could not span the cluster nodes different partitions live on.
    const marks = this.notAppliedMarks();
    const replies = await Promise.allSettled(
      results.map((r) =>
        marks.read(
          this.keys.stream(entity.name, r.partition),
          sinks.map((sink) => this.keys.notApplied(entity.name, r.partition, sink, r.id)),
        ),
      ),
    );
    results.forEach((r, i) => {
      const reply = replies[i]!;
      if (reply.status === 'rejected') throw commandFailure(reply.reason, 'MGET');
      const values = reply.value;
      const failed = values.findIndex((m) => m !== null);
      if (failed >= 0) throw new WriteThroughFailedError(r.id, sinks[failed]!, values[failed]!);
    });
  }

  private notAppliedMarks(): NotAppliedMarks {
    this.marks ??= new NotAppliedMarks(this.redis);
    return this.marks;
  }

  private watermarkWaiter(): WatermarkWaiter {
    if (!this.waiter) {
      this.subscriber = quietErrors(this.redis.duplicate());
      this.waiter = new WatermarkWaiter(this.redis, this.subscriber, this.keys);
    }
    return this.waiter;
  }

  private entity(name: string): EntityState {
    const state = this.entities.get(name);
    if (!state) throw new UnknownEntityError(name);
    return state;
  }

  /** Pings Redis; throws when it is unreachable. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.waiter?.close();
    this.subscriber?.disconnect();
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Creates a capture: validates options, registers schemas, pins partition counts. */
export function createCapture(options: CaptureOptions): Promise<Capture> {
  return Capture.create(options);
}

const MAX_KEY_BYTES = 512;
const INT_RANGE = `an integer from ${-(2 ** 31)} to ${2 ** 31 - 1}`;

/** An Avro `int` written in decimal, or undefined. */
function toInt(text: string): number | undefined {
  const value = Number(text);
  return /^-?\d+$/.test(text) && value === (value | 0) ? value : undefined;
}

function checkKey(entity: string, key: string): void {
  if (key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new ValidationError(entity, [
      { path: '', message: `key must be 1 to ${MAX_KEY_BYTES} bytes` },
    ]);
  }
}

function checkIdempotencyKey(entity: string, key: string | undefined): string | undefined {
  if (key === undefined || key === '') return undefined;
  if (Buffer.byteLength(key) > 256) {
    throw new ValidationError(entity, [
      { path: '', message: 'idempotency key must be at most 256 bytes' },
    ]);
  }
  return key;
}

function keyTypeOf(entity: string, type: avro.Type, keyField: string): EntityState['keyType'] {
  const field = recordFields(type, entity).find((f) => f.name === keyField);
  if (!field) throw new ConfigError(`schema of ${entity} has no key field "${keyField}"`);
  const name = field.type.typeName;
  if (name === 'string' || name === 'int' || name === 'long') return name;
  throw new ConfigError(
    `key field ${entity}.${keyField} must be a string, int or long, it is ${name}`,
  );
}
