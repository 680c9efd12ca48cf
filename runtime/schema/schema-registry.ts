import { createHash } from 'node:crypto';
import type avro from 'avsc';
import { defineCommands, RegisterSchemaCode, RestoreSchemaCode } from '../commands/index.ts';
import { ConflictError } from '../errors/conflict-error.ts';
import { SchemaCompatibilityError } from '../errors/schema-compatibility-error.ts';
import { SchemaMirrorConflictError } from '../errors/schema-mirror-conflict-error.ts';
import { SchemaNotFoundError } from '../errors/schema-not-found-error.ts';
import { UnknownEntityError } from '../errors/unknown-entity-error.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { retry } from '../retry.ts';
import { type AvroSchema, fingerprintOf, parseSchema } from './avro-schema.ts';
import { incompatibleField } from './incompatible-field.ts';

/** One registered schema version. */
export interface RegisteredSchema {
  /** Registry-wide id; every event carries the id of the schema it was written with. */
  id: number;
  entity: string;
  /** 1 for an entity's first schema, then 2, 3, … */
  version: number;
  /** SHA-256 of the Parsing Canonical Form, hex. */
  fingerprint: string;
  /** The schema JSON as registered. */
  schema: string;
  /** The parsed type (with the project's logical types). */
  type: avro.Type;
}

interface StoredSchema {
  entity: string;
  version: number;
  schema: string;
  fingerprint: string;
}

/**
 * The registry's one compatibility rule: a schema may follow `writer` only if it can read data
 * written with it (avsc `createResolver`, per the Avro resolution rules). Returns why it cannot,
 * or undefined when it can.
 */
export function incompatibility(reader: avro.Type, writer: RegisteredSchema): Error | undefined {
  try {
    reader.createResolver(writer.type);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Why restore-schema-4.lua refused, per code, and what to do about it. */
const RESTORE_REFUSALS: Record<number, string> = {
  [RestoreSchemaCode.IdTaken]:
    'the registry holds that id with other content; it was written to before the restore (restore before capture registers anything), or the mirror belongs to another deployment (check the prefix)',
  [RestoreSchemaCode.VersionTaken]:
    'the registry holds that version of the entity under another id; it was written to before the restore',
  [RestoreSchemaCode.EarlierVersionMissing]:
    'an earlier version of the entity is neither in the registry nor in the mirror',
  [RestoreSchemaCode.RegisteredUnderAnotherId]:
    'the registry holds the same schema under another id; it was written to before the restore',
};

/**
 * Registrations race only when services deploy together, each losing at most once per rival:
 * enough attempts, with jittered waits, for a fleet of writers to settle.
 */
const MAX_REGISTER_ATTEMPTS = 20;

/**
 * Schema registry kept in Redis, beside the streams it describes. Versions are immutable once
 * registered, so they are cached in memory forever; only "which is the latest" is re-read.
 * A new version must be backward compatible with the latest: data written with the latest must
 * be readable with the new one (avsc `createResolver` decides, per the Avro resolution rules).
 */
export class SchemaRegistry {
  private readonly byId = new Map<number, RegisteredSchema>();
  private readonly resolvers = new Map<string, avro.Resolver>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    defineCommands(redis);
  }

  /**
   * Registers `schema` as the next version of `entity` and returns it; returns the existing
   * version when an identical schema is already registered. Throws SchemaCompatibilityError when
   * the schema cannot read data written with the latest version.
   */
  async register(entity: string, schema: AvroSchema | string): Promise<RegisteredSchema> {
    const type = parseSchema(schema, `schema of ${entity}`);
    // exportAttrs keeps defaults, docs and aliases: without them a stored schema would lose the
    // defaults that make it backward compatible.
    const json = JSON.stringify(type.schema({ exportAttrs: true }));
    const identity = createHash('sha256').update(json).digest('hex');
    const fingerprint = fingerprintOf(type);
    const attempt = async (): Promise<RegisteredSchema> => {
      const latest = await this.latest(entity).catch((err: unknown) => {
        if (err instanceof UnknownEntityError) return undefined;
        throw err;
      });
      const problem = latest && latest.schema !== json ? incompatibility(type, latest) : undefined;
      if (problem) {
        const field = latest ? incompatibleField(type, latest.type) : undefined;
        const where = field === undefined ? '' : `field ${field}: `;
        throw new SchemaCompatibilityError(entity, `${where}${problem.message}`, problem);
      }
      const result = await this.redis.registerSchema(
        this.keys.registrySchemas(),
        this.keys.registryVersions(entity),
        this.keys.registryFingerprints(),
        this.keys.registrySequence(),
        entity,
        json,
        identity,
        latest ? String(latest.id) : '',
        fingerprint,
      );
      if (result === RegisterSchemaCode.LatestChanged)
        throw new ConflictError(
          `could not register a schema for ${entity}: other versions kept being registered concurrently`,
        );
      if (typeof result === 'number')
        throw new Error(`unexpected register-schema result ${result}`);
      const [id, version] = result;
      const registered: RegisteredSchema = { id, entity, version, fingerprint, schema: json, type };
      this.byId.set(id, registered);
      return registered;
    };
    // Optimistic: another version registered between the check and the script is checked against
    // in turn (the compatibility check must see the version the new one follows).
    return retry(attempt, {
      attempts: MAX_REGISTER_ATTEMPTS,
      backoff: { initialMs: 5, maxMs: 200 },
      isRetriable: (err) => err instanceof ConflictError,
    });
  }

  /**
   * Puts back a schema version with the id and version it was registered with (kept outside
   * Redis, e.g. in the Kafka schema mirror), unless it is there already. Versions of an entity
   * must be restored in order. Throws SchemaMirrorConflictError, restoring nothing, when the
   * registry says otherwise: the id holds other content, the version another id, an earlier
   * version is missing, or the schema is registered under another id (the registry was written
   * to before the restore: restore first, then start capture). Returns whether it was restored.
   */
  async restore(record: Omit<RegisteredSchema, 'type'>): Promise<boolean> {
    const { id, entity, version, schema, fingerprint } = record;
    const type = parseSchema(schema, `restored schema ${id}`);
    const what = `schema id ${id} (${entity} v${version})`;
    if (fingerprintOf(type) !== fingerprint)
      throw new SchemaMirrorConflictError(
        id,
        `${what} does not match its own fingerprint: the mirrored record is damaged`,
      );
    const code = await this.redis.restoreSchema(
      this.keys.registrySchemas(),
      this.keys.registryVersions(entity),
      this.keys.registryFingerprints(),
      this.keys.registrySequence(),
      String(id),
      entity,
      String(version),
      schema,
      createHash('sha256').update(schema).digest('hex'),
      fingerprint,
    );
    if (code === RestoreSchemaCode.Restored || code === RestoreSchemaCode.AlreadyThere) {
      this.byId.set(id, { id, entity, version, fingerprint, schema, type });
      return code === RestoreSchemaCode.Restored;
    }
    throw new SchemaMirrorConflictError(
      id,
      `cannot restore ${what}: ${RESTORE_REFUSALS[code] ?? `unexpected restore-schema result ${code}`}`,
    );
  }

  /** The schema with this id (cached: versions never change). */
  async get(id: number): Promise<RegisteredSchema> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const raw = await this.redis.hget(this.keys.registrySchemas(), String(id));
    if (raw === null) throw new SchemaNotFoundError(id);
    const stored = JSON.parse(raw) as StoredSchema;
    const registered: RegisteredSchema = {
      id,
      entity: stored.entity,
      version: stored.version,
      fingerprint: stored.fingerprint,
      schema: stored.schema,
      type: parseSchema(stored.schema, `registered schema ${id}`),
    };
    this.byId.set(id, registered);
    return registered;
  }

  /** The latest version of an entity's schema. Throws UnknownEntityError when it has none. */
  async latest(entity: string): Promise<RegisteredSchema> {
    const id = await this.redis.lindex(this.keys.registryVersions(entity), -1);
    if (id === null) throw new UnknownEntityError(entity);
    return this.get(Number(id));
  }

  /** Every version of an entity's schema, oldest first. */
  async versions(entity: string): Promise<RegisteredSchema[]> {
    const ids = await this.redis.lrange(this.keys.registryVersions(entity), 0, -1);
    return Promise.all(ids.map((id) => this.get(Number(id))));
  }

  /** Entities with at least one registered schema. */
  async entities(): Promise<string[]> {
    const records = await this.redis.hvals(this.keys.registrySchemas());
    const names = new Set(records.map((r) => (JSON.parse(r) as StoredSchema).entity));
    return [...names].sort();
  }

  /**
   * A resolver that reads data written with `writerId` as the `reader` schema: fields the
   * writer lacks get the reader's defaults, fields the reader lacks are skipped.
   */
  async resolver(writerId: number, reader: RegisteredSchema): Promise<avro.Resolver | undefined> {
    if (writerId === reader.id) return undefined;
    const cacheKey = `${writerId}>${reader.id}`;
    const cached = this.resolvers.get(cacheKey);
    if (cached) return cached;
    const writer = await this.get(writerId);
    const resolver = reader.type.createResolver(writer.type);
    this.resolvers.set(cacheKey, resolver);
    return resolver;
  }
}
