import type { MongoClientOptions } from 'mongodb';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { documentFieldProblem } from './mongo-document.ts';

/** Where and how one entity is stored. Every field is optional. */
export interface MongoCollectionOptions {
  /** Collection name. Default: the entity name. */
  collection?: string;
  /**
   * Record field → document field, for fields whose stored name differs. Default `{}`: every
   * field keeps its Avro name. The key field is always stored as `_id` and cannot be mapped.
   */
  fields?: Record<string, string>;
  /**
   * Unique indexes to create, each over record fields (names as in the schema, translated through
   * `fields`; a dotted path into a nested record is allowed). Default `[]`. They are created
   * `sparse`, so tombstones (which hold no data fields) never collide; live documents whose
   * indexed fields are null still do, as in any MongoDB unique index. A write that breaks one
   * fails with MongoConstraintError (permanent: the event is dead-lettered).
   */
  uniqueIndexes?: Array<{
    /** Record fields of the index, in order. */
    fields: string[];
    /** Index name. Default: MongoDB's (`<field>_1_<field>_1…`). */
    name?: string;
  }>;
}

export interface MongoSinkOptions {
  /**
   * Connection string, `mongodb://` or `mongodb+srv://`, with credentials, TLS and write concern
   * options as the driver reads them (https://www.mongodb.com/docs/manual/reference/connection-string/).
   * The database is the URL path; default database `cdc` when the path is empty. Required.
   */
  url: string;
  /** Names the consumer group, watermarks and offsets of this sink. Default `mongo`. */
  name?: string;
  /** Per-entity storage, keyed by entity name. Default `{}`: entities without an entry get the defaults. */
  collections?: Record<string, MongoCollectionOptions>;
  /** Collection that holds the consumed offsets (one document per sink/entity/partition). Default `cdc_offsets`. */
  offsetsCollection?: string;
  /**
   * Writes the documents and the offsets of one `apply` in one multi-document transaction.
   * Default `false`. Needs a replica set or a sharded cluster (checked at `connect`); without it
   * the sink relies on its idempotent writes (version guards and tombstones), which are correct
   * on any server, and a crash between data and offsets only means a harmless replay.
   */
  transactions?: boolean;
  /**
   * How long an operation waits for a usable server, ms. Default `10000` (the driver's own is
   * 30000): a down server then fails a batch soon, and the runner's backoff takes over.
   */
  serverSelectionTimeoutMS?: number;
  /** TCP connect timeout, ms. Default `10000`. */
  connectTimeoutMS?: number;
  /** Socket inactivity timeout, ms; `0` means none. Default `0` (the driver's). */
  socketTimeoutMS?: number;
  /**
   * How many bulk writes one collection's documents of one apply are split into, running at once
   * on separate connections, each sent once the one before is on the wire. Default `4`. The first
   * has 100 writes, so that the server starts at once, and applies them while the driver builds
   * the next; `1` sends each collection's writes as one bulk write. Batches of fewer than 200
   * writes are not split.
   */
  writeConcurrency?: number;
  /**
   * Connection pool size. Default `10`: enough for `writeConcurrency` bulk writes per collection
   * and the offsets write. Raise it with `writeConcurrency` or the number of entities.
   */
  maxPoolSize?: number;
  /**
   * Further driver options (TLS files, auth mechanism, compressors, …), passed to MongoClient
   * below the options above. Default `{}`.
   */
  clientOptions?: MongoClientOptions;
}

/** Options with defaults applied, as the sink uses them. */
export interface ResolvedMongoSinkOptions {
  name: string;
  database: string;
  collections: Record<
    string,
    Required<Pick<MongoCollectionOptions, 'fields' | 'uniqueIndexes'>> & { collection?: string }
  >;
  offsetsCollection: string;
  transactions: boolean;
  writeConcurrency: number;
  clientOptions: MongoClientOptions;
}

export const DEFAULT_DATABASE = 'cdc';
export const DEFAULT_WRITE_CONCURRENCY = 4;
const URL_SCHEME = /^mongodb(\+srv)?:\/\//;
/** https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions */
const BAD_DATABASE_CHAR = /[/\\. "$*<>:|?\0]/;

/** The URL with its password replaced, for messages. */
export function redactMongoUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** The database named by the URL path, or undefined when the path is empty. */
export function databaseFromUrl(url: string): string | undefined {
  const rest = url.replace(URL_SCHEME, '');
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const path = rest.slice(slash + 1).split(/[?#]/, 1)[0] ?? '';
  return path === '' ? undefined : decodeURIComponent(path);
}

/**
 * Checks the options and merges the defaults. Values are checked at run time too, because they
 * usually come from a JSON file. Throws ConfigError naming the option.
 */
export function resolveMongoSinkOptions(options: MongoSinkOptions): ResolvedMongoSinkOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('mongo sink options must be an object');
  const { url } = options;
  if (typeof url !== 'string' || !URL_SCHEME.test(url)) {
    throw new ConfigError(
      'mongo sink: url must be a mongodb:// or mongodb+srv:// connection string',
    );
  }
  let database: string;
  try {
    database = databaseFromUrl(url) ?? DEFAULT_DATABASE;
  } catch (error) {
    throw new ConfigError(
      `mongo sink: the database in ${redactMongoUrl(url)} is not valid percent-encoding`,
      error,
    );
  }
  if (BAD_DATABASE_CHAR.test(database) || Buffer.byteLength(database) >= 64) {
    throw new ConfigError(
      `mongo sink: "${database}" is not a valid database name (under 64 bytes, none of /\\. "$*<>:|?)`,
    );
  }

  const name = options.name ?? 'mongo';
  // The runner's rule for sink names (consumer group, keys), checked here too so that a bad
  // name is reported before anything connects.
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(name)) {
    throw new ConfigError(
      `mongo sink: name must start with a letter and hold only letters, digits, _ and - (at most 63), got ${JSON.stringify(name)}`,
    );
  }
  const offsetsCollection = options.offsetsCollection ?? 'cdc_offsets';
  checkCollectionName('offsetsCollection', offsetsCollection);
  const transactions = options.transactions ?? false;
  if (typeof transactions !== 'boolean')
    throw new ConfigError('mongo sink: transactions must be true or false');

  const collections: ResolvedMongoSinkOptions['collections'] = {};
  const given = options.collections ?? {};
  if (!isPlainObject(given))
    throw new ConfigError('mongo sink: collections must be an object keyed by entity');
  for (const [entity, raw] of Object.entries(given)) {
    const where = `collections.${entity}`;
    if (!isPlainObject(raw)) throw new ConfigError(`mongo sink: ${where} must be an object`);
    const config = raw as MongoCollectionOptions;
    if (config.collection !== undefined)
      checkCollectionName(`${where}.collection`, config.collection);
    const fields = config.fields ?? {};
    if (!isPlainObject(fields))
      throw new ConfigError(
        `mongo sink: ${where}.fields must map field names to document field names`,
      );
    for (const [field, target] of Object.entries(fields)) {
      if (typeof target !== 'string')
        throw new ConfigError(`mongo sink: ${where}.fields.${field} must be a string`);
      const problem = documentFieldProblem(target);
      if (problem)
        throw new ConfigError(`mongo sink: ${where}.fields.${field} = "${target}" ${problem}`);
    }
    const uniqueIndexes = config.uniqueIndexes ?? [];
    if (!Array.isArray(uniqueIndexes))
      throw new ConfigError(`mongo sink: ${where}.uniqueIndexes must be an array`);
    uniqueIndexes.forEach((index, i) => {
      const at = `${where}.uniqueIndexes[${i}]`;
      if (!isPlainObject(index) || !Array.isArray(index.fields) || index.fields.length === 0) {
        throw new ConfigError(`mongo sink: ${at} must be { fields: [at least one field], name? }`);
      }
      if (!index.fields.every((f) => typeof f === 'string' && f.length > 0)) {
        throw new ConfigError(`mongo sink: ${at}.fields must be non-empty strings`);
      }
      if (new Set(index.fields).size !== index.fields.length) {
        throw new ConfigError(`mongo sink: ${at}.fields names a field twice`);
      }
      if (index.name !== undefined && (typeof index.name !== 'string' || index.name.length === 0)) {
        throw new ConfigError(`mongo sink: ${at}.name must be a non-empty string`);
      }
    });
    collections[entity] = {
      ...(config.collection !== undefined ? { collection: config.collection } : {}),
      fields: { ...fields },
      uniqueIndexes: uniqueIndexes.map((index) => ({
        fields: [...index.fields],
        ...(index.name ? { name: index.name } : {}),
      })),
    };
  }

  const clientOptions: MongoClientOptions = {
    ...(options.clientOptions ?? {}),
    serverSelectionTimeoutMS: integerOption(
      'serverSelectionTimeoutMS',
      options.serverSelectionTimeoutMS,
      10_000,
      1,
    ),
    connectTimeoutMS: integerOption('connectTimeoutMS', options.connectTimeoutMS, 10_000, 0),
    socketTimeoutMS: integerOption('socketTimeoutMS', options.socketTimeoutMS, 0, 0),
    maxPoolSize: integerOption('maxPoolSize', options.maxPoolSize, 10, 1),
  };
  const writeConcurrency = integerOption(
    'writeConcurrency',
    options.writeConcurrency,
    DEFAULT_WRITE_CONCURRENCY,
    1,
  );
  return {
    name,
    database,
    collections,
    offsetsCollection,
    transactions,
    writeConcurrency,
    clientOptions,
  };
}

function integerOption(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(
      `mongo sink: ${option} must be an integer >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-Restriction-on-Collection-Names */
function checkCollectionName(option: string, value: unknown): void {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.includes('$') ||
    value.includes('\0') ||
    value.startsWith('system.')
  ) {
    throw new ConfigError(
      `mongo sink: ${option} must be a non-empty collection name without "$" and not starting with "system.", got ${JSON.stringify(value)}`,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
