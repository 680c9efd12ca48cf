import {
  type AnyBulkWriteOperation,
  type ClientSession,
  type Collection,
  type Db,
  type Document,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type WriteError,
} from 'mongodb';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { PayloadError } from '../../../runtime/errors/payload-error.ts';
import {
  type EntityTarget,
  offsetKey,
  type PartitionBatch,
  type PreparedApply,
  type Sink,
  type SinkEvent,
} from '../../../runtime/sink/sink.ts';
import { compareStreamIds } from '../../../runtime/stream-id.ts';
import { DocumentDecoders } from './document-decoders.ts';
import { latestPerKey } from './latest-per-key.ts';
import { MongoConstraintError } from './mongo-constraint-error.ts';
import {
  buildDocumentMapping,
  type DocumentId,
  type DocumentMapping,
  documentId,
  documentPath,
  tombstoneDocument,
  VERSION_FIELD,
} from './mongo-document.ts';
import { MongoMappingError } from './mongo-mapping-error.ts';
import {
  type MongoSinkOptions,
  type ResolvedMongoSinkOptions,
  redactMongoUrl,
  resolveMongoSinkOptions,
} from './mongo-sink-options.ts';
import { isTransientMongoError } from './mongo-transient.ts';
import { encodeVersion, isNewerVersion } from './mongo-version.ts';
import { sendChunks } from './send-chunks.ts';
import { writeChunks } from './write-chunks.ts';

export type { MongoCollectionOptions, MongoSinkOptions } from './mongo-sink-options.ts';

/** https://www.mongodb.com/docs/manual/reference/error-codes/ */
const DUPLICATE_KEY = 11000;
const NAMESPACE_EXISTS = 48;
const COMMAND_NOT_FOUND = 59;
/** Below this many writes a bulk write is not split: each one costs a round trip of its own. */
const MIN_CHUNK_WRITES = 100;

/** One document write: the last event of a key in this `apply`. */
interface DocumentWrite {
  readonly id: DocumentId;
  /** Encoded stream id of the event (mongo-version.ts). */
  readonly version: string;
  /** The whole stored document but `_id`: a live document or a tombstone. */
  readonly replacement: Document;
}

interface CollectionPlan {
  readonly mapping: DocumentMapping;
  readonly writes: readonly DocumentWrite[];
}

/** What the version check reads of a document (of any collection the sink writes). */
interface VersionedDocument {
  _id: DocumentId | string;
  /** Absent or not a string on a document the sink did not write. */
  _v?: unknown;
}

/** One document of the offsets collection. */
interface OffsetDocument {
  /** `<sink>/<entity>/<partition>` */
  _id: string;
  sink: string;
  entity: string;
  partition: number;
  /** The stream id consumed up to, as the runner gave it. */
  offset: string;
  /** `offset` encoded, so that the guard compares it as a string. */
  _v: string;
  updatedAt: Date;
}

interface OffsetWrite {
  readonly id: string;
  readonly entity: string;
  readonly partition: number;
  readonly offset: string;
  readonly version: string;
}

/**
 * Sink that keeps one MongoDB document per entity key.
 *
 * Every write replaces the whole document (`replaceOne` with `upsert`), guarded by the stored
 * version `_v`, the stream id of the event that wrote it: only a newer event replaces a document.
 * A delete leaves a tombstone `{ _id, _v, _deleted: true, _deletedAt }` in place, so a replayed
 * older upsert finds a newer version and changes nothing. Hence applying any suffix of the stream
 * again converges to the same state, and the offsets (written after the data) may lag behind it.
 * Offsets are positions (a batch's `offset`), versions are event ids, and each is compared only
 * with its own kind: read from Kafka the two differ, and nothing here needs them to agree.
 * See ARCHITECTURE.md, "MongoDB sink".
 */
export class MongoSink implements Sink {
  readonly name: string;
  /**
   * Upserts are decoded from their payloads straight into documents (document-decoders.ts): the
   * runtime does not decode records ahead, and a payload that cannot be decoded surfaces as the
   * PayloadError `apply` throws, which the runtime isolates to its event.
   */
  readonly readsPayloads = true;
  private readonly options: ResolvedMongoSinkOptions;
  private readonly client: MongoClient;
  private readonly db: Db;
  /** Per entity: its mapping, and the decoders of its payloads into documents of that mapping. */
  private mappings = new Map<string, DocumentDecoders>();

  constructor(options: MongoSinkOptions) {
    this.options = resolveMongoSinkOptions(options);
    this.name = this.options.name;
    try {
      // Parses the URL and the options without connecting; the URL (and its password) stays in
      // the client only.
      this.client = new MongoClient(options.url, this.options.clientOptions);
    } catch (error) {
      throw new ConfigError(
        `mongo sink: cannot use ${redactMongoUrl(options.url)}: ${(error as Error).message}`,
        error,
      );
    }
    this.db = this.client.db(this.options.database);
  }

  async connect(): Promise<void> {
    await this.ready();
    if (this.options.transactions) await this.checkTransactionSupport();
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Connects when not connected; returns at once otherwise. Called before every operation: when
   * the first connect fails (server down at start), the driver keeps a closed topology and every
   * later operation fails with MongoTopologyClosedError, which no retry cures; `connect()` builds
   * a new one. Once connected, the driver itself rides out a server going away.
   */
  private async ready(): Promise<void> {
    await this.client.connect();
  }

  isTransient(error: unknown): boolean {
    return isTransientMongoError(error);
  }

  /**
   * Creates the missing collections (entities' and offsets') and the configured unique indexes.
   * Both are idempotent, so every instance may run this at start. Throws ConfigError when the
   * configuration does not fit a schema (unknown field, two entities in one collection, …).
   */
  async ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    const mappings = new Map(this.mappings);
    for (const target of targets) {
      const config = this.options.collections[target.entity];
      const mapping = buildDocumentMapping(
        target.entity,
        target.schema.type,
        target.keyField,
        config?.collection ?? target.entity,
        config?.fields,
      );
      mappings.set(target.entity, new DocumentDecoders(mapping, target.schema));
    }
    const owners = new Map<string, string>([[this.options.offsetsCollection, 'the offsets']]);
    for (const { mapping } of mappings.values()) {
      const owner = owners.get(mapping.collection);
      if (owner !== undefined) {
        throw new ConfigError(
          `mongo sink: ${mapping.entity} and ${owner} would share the collection "${mapping.collection}"; give one another "collection"`,
        );
      }
      owners.set(mapping.collection, mapping.entity);
    }
    const indexes = new Map<string, Array<{ key: Document; name?: string }>>();
    for (const target of targets) {
      const { mapping } = mappings.get(target.entity)!;
      const specs = (this.options.collections[target.entity]?.uniqueIndexes ?? []).map((index) => {
        const key: Document = {};
        for (const field of index.fields) {
          const path = documentPath(mapping, field);
          if (path === undefined) {
            throw new ConfigError(
              `mongo sink: a unique index of ${target.entity} names "${field}", which is not a field of its schema`,
            );
          }
          key[path] = 1;
        }
        return { key, ...(index.name ? { name: index.name } : {}) };
      });
      if (specs.length > 0) indexes.set(mapping.collection, specs);
    }

    await this.ready();
    // Filtered here, not by the server: some MongoDB-compatible servers ignore the filter.
    const existing = new Set(
      (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
    );
    const wanted = [
      this.options.offsetsCollection,
      ...[...mappings.values()].map((m) => m.mapping.collection),
    ];
    for (const name of wanted) {
      if (existing.has(name)) continue;
      try {
        await this.db.createCollection(name);
      } catch (error) {
        // Another instance created it in between.
        if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
      }
    }
    for (const [collection, specs] of indexes) {
      // Sparse: a tombstone has none of the indexed fields, so tombstones never collide.
      await this.db
        .collection(collection)
        .createIndexes(specs.map((spec) => ({ ...spec, unique: true, sparse: true })));
    }
    this.mappings = mappings;
  }

  async readOffsets(): Promise<Map<string, string>> {
    await this.ready();
    const documents = await this.offsets().find({ sink: this.name }).toArray();
    return new Map(documents.map((d) => [offsetKey(d.entity, d.partition), d.offset]));
  }

  async rewindOffset(entity: string, partition: number, id: string): Promise<void> {
    await this.ready();
    const offset = { id: `${this.name}/${entity}/${partition}`, entity, partition, offset: id };
    // Unguarded: the one write that moves an offset back.
    await this.offsets().bulkWrite([
      offsetModel(this.name, { ...offset, version: encodeVersion(id) }, false),
    ]);
  }

  /**
   * Writes the last event of every key (one `bulkWrite` per collection, collections in parallel),
   * then the offsets. With `transactions`, both happen in one transaction instead.
   */
  async apply(batches: readonly PartitionBatch[]): Promise<void> {
    // Every event is mapped before anything is written: a bad one fails the call up front.
    await this.write(this.plan(batches), latestOffsets(this.name, batches));
  }

  /**
   * The documents decoded ahead, while the batch before is written (decoding and mapping are most
   * of this sink's CPU per batch). A batch with an event that cannot be decoded or mapped is left
   * to apply(), which throws its PayloadError or MongoMappingError.
   */
  prepare(batches: readonly PartitionBatch[]): PreparedApply | undefined {
    let plans: CollectionPlan[];
    try {
      plans = this.plan(batches);
    } catch (error) {
      if (error instanceof MongoMappingError || error instanceof PayloadError) return undefined;
      throw error;
    }
    const offsets = latestOffsets(this.name, batches);
    return () => this.write(plans, offsets);
  }

  private async write(
    plans: readonly CollectionPlan[],
    offsets: readonly OffsetWrite[],
  ): Promise<void> {
    await this.ready();
    if (this.options.transactions) {
      await this.applyInTransaction(plans, offsets);
      return;
    }
    // allSettled: no write may still be running when the error reaches the runner's retry.
    const results = await Promise.allSettled(plans.map((plan) => this.writeDocuments(plan)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    // Only after the data: a crash in between replays the batch, which the guards make harmless.
    await this.writeOffsets(offsets);
  }

  private plan(batches: readonly PartitionBatch[]): CollectionPlan[] {
    const byEntity = new Map<string, SinkEvent[]>();
    for (const batch of batches) {
      for (const event of batch.events) {
        const events = byEntity.get(event.entity);
        if (events) events.push(event);
        else byEntity.set(event.entity, [event]);
      }
    }
    const plans: CollectionPlan[] = [];
    for (const [entity, events] of byEntity) {
      const decoders = this.mappings.get(entity);
      if (!decoders) {
        throw new MongoMappingError(
          entity,
          events[0]!.key,
          '',
          'the entity has no target (ensureTargets was not given it)',
        );
      }
      const { mapping } = decoders;
      // Keyed by `_id`, not by the key text: "7" and "07" are one document when the key is a number.
      const keyOf = (event: SinkEvent): string => String(documentId(mapping, event.key));
      const latest = latestPerKey(events, keyOf);
      if (latest.length < events.length) {
        const written = new Set(latest);
        for (const event of events) if (!written.has(event)) decoders.check(event);
      }
      const writes = latest.map((event) => {
        const version = encodeVersion(event.id);
        return {
          id: documentId(mapping, event.key),
          version,
          replacement:
            event.op === 'upsert'
              ? decoders.liveDocument(event, version)
              : tombstoneDocument(event, version),
        };
      });
      plans.push({ mapping, writes });
    }
    return plans;
  }

  /**
   * The plan's writes as up to `writeConcurrency` concurrent bulk writes (write-chunks.ts says why
   * any split is safe), sent in turn (send-chunks.ts says why).
   */
  private async writeDocuments(plan: CollectionPlan): Promise<void> {
    const chunks = writeChunks(plan.writes, this.options.writeConcurrency, MIN_CHUNK_WRITES);
    await sendChunks(chunks, (writes) => this.writeChunk(plan, writes));
  }

  /**
   * One unordered bulk of guarded replace-upserts. When the guard does not match because the
   * stored version is the same or newer, the upsert tries to insert a second document with that
   * `_id` and fails with E11000: that is the "already applied" answer, not a failure. `ordered:
   * false` lets the other writes go on (they touch other `_id`s, so their order is free); the
   * E11000s are then checked against the stored versions, and one whose document is missing or
   * older is a real unique-index violation.
   */
  private async writeChunk(plan: CollectionPlan, writes: readonly DocumentWrite[]): Promise<void> {
    const collection = this.db.collection(plan.mapping.collection);
    try {
      await collection.bulkWrite(
        writes.map((w) => replaceModel(w, true)),
        { ordered: false },
      );
    } catch (error) {
      const duplicates = duplicateKeyErrors(error);
      if (!duplicates) throw error;
      const missed = duplicates.map((d) => ({ write: writes[d.index]!, error: d }));
      const stored = await storedVersions(
        this.db.collection<VersionedDocument>(plan.mapping.collection),
        missed.map((m) => m.write.id),
      );
      const violations = missed.filter((m) =>
        isNewerVersion(m.write.version, stored.get(String(m.write.id))),
      );
      if (violations.length > 0) {
        throw new MongoConstraintError(
          plan.mapping.collection,
          violations.map((v) => v.write.id),
          violations.map((v) => v.error.errmsg ?? `code ${v.error.code}`).join('; '),
          error,
        );
      }
    }
  }

  /** Moves each offset forward only: an E11000 means the stored one is already at or past it. */
  private async writeOffsets(offsets: readonly OffsetWrite[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.offsets().bulkWrite(
        offsets.map((o) => offsetModel(this.name, o, true)),
        { ordered: false },
      );
    } catch (error) {
      if (!duplicateKeyErrors(error)) throw error;
    }
  }

  /**
   * Data and offsets in one transaction. A write error aborts a transaction, so the E11000 answer
   * of the guard cannot be used here: the stored versions are read first, in the transaction's
   * snapshot, stale writes are dropped and the rest are written by `_id`. A concurrent change
   * makes the server fail the transaction with a WriteConflict (TransientTransactionError), which
   * the driver's withTransaction retries; any E11000 left is a unique-index violation.
   */
  private async applyInTransaction(
    plans: readonly CollectionPlan[],
    offsets: readonly OffsetWrite[],
  ): Promise<void> {
    const session = this.client.startSession();
    try {
      await session.withTransaction(async () => {
        // One operation at a time: a session is not meant for concurrent use.
        for (const plan of plans) {
          const collection = this.db.collection(plan.mapping.collection);
          const stored = await storedVersions(
            this.db.collection<VersionedDocument>(plan.mapping.collection),
            plan.writes.map((w) => w.id),
            session,
          );
          const fresh = plan.writes.filter((w) =>
            isNewerVersion(w.version, stored.get(String(w.id))),
          );
          if (fresh.length === 0) continue;
          try {
            await collection.bulkWrite(
              fresh.map((w) => replaceModel(w, false)),
              { session },
            );
          } catch (error) {
            const duplicates = duplicateKeyErrors(error);
            if (!duplicates) throw error;
            throw new MongoConstraintError(
              plan.mapping.collection,
              duplicates.map((d) => fresh[d.index]!.id),
              duplicates.map((d) => d.errmsg ?? `code ${d.code}`).join('; '),
              error,
            );
          }
        }
        const stored = await storedVersions(
          this.db.collection<VersionedDocument>(this.options.offsetsCollection),
          offsets.map((o) => o.id),
          session,
        );
        const forward = offsets.filter((o) => isNewerVersion(o.version, stored.get(String(o.id))));
        if (forward.length > 0) {
          await this.offsets().bulkWrite(
            forward.map((o) => offsetModel(this.name, o, false)),
            { session },
          );
        }
      });
    } finally {
      await session.endSession();
    }
  }

  /**
   * Transactions need a replica set or a sharded cluster. Checked once here, because otherwise
   * every apply would fail with a permanent error and every event would be dead-lettered.
   */
  private async checkTransactionSupport(): Promise<void> {
    const admin = this.db.admin();
    const hello = await admin.command({ hello: 1 }).catch((error: unknown) => {
      // Servers before 4.4.2 only know the legacy name.
      if (error instanceof MongoServerError && error.code === COMMAND_NOT_FOUND)
        return admin.command({ isMaster: 1 });
      throw error;
    });
    if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
      throw new ConfigError(
        'mongo sink: transactions need a replica set or a sharded cluster, and this server is a standalone; set transactions to false',
      );
    }
  }

  private offsets(): Collection<OffsetDocument> {
    return this.db.collection<OffsetDocument>(this.options.offsetsCollection);
  }
}

/**
 * Only a document whose version is older than `version`, or that has none, matches. `$lt` on
 * strings compares bytes under the default collation; the encoding makes that numeric order.
 */
function versionGuard(id: DocumentId | string, version: string): Document {
  return { _id: id, $or: [{ [VERSION_FIELD]: { $lt: version } }, UNVERSIONED] };
}

/** The guard's second branch, the same for every write: one object, not one per write. */
const UNVERSIONED: Document = Object.freeze({ [VERSION_FIELD]: Object.freeze({ $exists: false }) });

function replaceModel(write: DocumentWrite, guarded: boolean): AnyBulkWriteOperation {
  return {
    replaceOne: {
      filter: guarded ? versionGuard(write.id, write.version) : { _id: write.id },
      replacement: write.replacement,
      upsert: true,
    },
  };
}

function offsetModel(
  sink: string,
  offset: OffsetWrite,
  guarded: boolean,
): AnyBulkWriteOperation<OffsetDocument> {
  return {
    updateOne: {
      filter: guarded ? versionGuard(offset.id, offset.version) : { _id: offset.id },
      update: {
        $set: {
          sink,
          entity: offset.entity,
          partition: offset.partition,
          offset: offset.offset,
          _v: offset.version,
          updatedAt: new Date(),
        },
      },
      upsert: true,
    },
  };
}

/** The highest offset of each entity partition among the batches. */
function latestOffsets(sink: string, batches: readonly PartitionBatch[]): OffsetWrite[] {
  const latest = new Map<string, PartitionBatch>();
  for (const batch of batches) {
    const id = `${sink}/${batch.entity}/${batch.partition}`;
    const seen = latest.get(id);
    if (!seen || compareStreamIds(batch.offset, seen.offset) > 0) latest.set(id, batch);
  }
  return [...latest].map(([id, b]) => ({
    id,
    entity: b.entity,
    partition: b.partition,
    offset: b.offset,
    version: encodeVersion(b.offset),
  }));
}

/**
 * The write errors of a bulk write when every one of them is a duplicate key, else undefined
 * (another error, a write concern error, not a bulk write error): only then can it be a guard miss.
 */
function duplicateKeyErrors(error: unknown): WriteError[] | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  if (error.result?.getWriteConcernError()) return undefined;
  const writeErrors = [error.writeErrors].flat();
  if (writeErrors.length === 0 || writeErrors.some((w) => w.code !== DUPLICATE_KEY))
    return undefined;
  return writeErrors;
}

/**
 * The stored version of each of these documents that exists and has one, by the text of its `_id`:
 * a Long `_id` (a long key beyond ±(2^53 − 1)) is read back as another Long object, which a Map
 * would not find by the one written. One collection's ids are all of one type, so the text of each
 * names it alone.
 */
async function storedVersions(
  collection: Collection<VersionedDocument>,
  ids: readonly (DocumentId | string)[],
  session?: ClientSession,
): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  if (ids.length === 0) return versions;
  const documents = await collection
    .find(
      { _id: { $in: [...ids] } },
      { projection: { [VERSION_FIELD]: 1 }, ...(session ? { session } : {}) },
    )
    .toArray();
  for (const document of documents) {
    const version: unknown = document._v;
    if (typeof version === 'string') versions.set(String(document._id), version);
  }
  return versions;
}
