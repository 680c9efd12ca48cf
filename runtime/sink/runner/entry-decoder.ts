import type avro from 'avsc';
import { type ChangeEvent, decodeEnvelope } from '../../envelope.ts';
import type { PartitionRef } from '../../partition-id.ts';
import type { RegisteredSchema, SchemaRegistry } from '../../schema/schema-registry.ts';
import { DecodedEvent } from '../decoded-event.ts';
import type { SinkEvent } from '../sink.ts';
import { type SourceRead, versionInFields } from '../source/event-source.ts';
import type { EntityTargets } from './entity-targets.ts';
import type { TransientRetry } from './transient-retry.ts';

/**
 * An entry of a read, decoded ahead of its batch (decoding has no side effects, so it overlaps
 * the apply before it). What to do with it is decided by the planner when its turn comes.
 */
export interface DecodedEntry {
  readonly id: string;
  /** The read the entry came in and its index there: its fields stay in the read's bytes. */
  readonly read: SourceRead;
  readonly index: number;
  /** Deleted from the stream after it was delivered: there is nothing to apply. */
  readonly deleted: boolean;
  /** Kept only when the event could not be built from it (its key names the dead letter). */
  envelope?: ChangeEvent;
  event?: SinkEvent;
  /** Why it cannot be applied (malformed envelope, unknown schema, corrupt payload). */
  error?: Error;
}

/** One partition's entries of a read, decoded. */
export interface DecodedRead {
  readonly ref: PartitionRef;
  readonly entries: DecodedEntry[];
}

interface ResolvedWriter {
  writer: RegisteredSchema;
  resolver: avro.Resolver | undefined;
}

/**
 * Turns what the source read into sink events: envelopes decoded where they lie, writer schemas
 * looked up once per distinct id and resolved against the entity's reader schema, records
 * decoded ahead unless the sink reads payloads itself (then on first access).
 */
export class EntryDecoder {
  constructor(
    private readonly registry: SchemaRegistry,
    private readonly targets: EntityTargets,
    private readonly readsPayloads: boolean,
    private readonly retry: TransientRetry,
  ) {}

  async decode(reads: readonly SourceRead[]): Promise<DecodedRead[]> {
    const out: DecodedRead[] = [];
    const schemaIds = new Set<number>();
    for (const read of reads) {
      const known = this.targets.get(read.ref.entity) !== undefined;
      const entries: DecodedEntry[] = new Array(read.ids.length);
      for (let index = 0; index < read.ids.length; index++) {
        const entry: DecodedEntry = {
          id: read.ids[index]!,
          read,
          index,
          deleted: read.deleted(index),
        };
        entries[index] = entry;
        if (!known || entry.deleted) continue;
        try {
          entry.envelope = read.envelope(index);
          if (entry.envelope.schemaId !== undefined) schemaIds.add(entry.envelope.schemaId);
        } catch (err) {
          entry.error = err as Error;
        }
      }
      out.push({ ref: read.ref, entries });
    }
    await this.targets.evolveFor(schemaIds, this.retry);
    // Readers are read after evolving: a newer writer schema may have replaced one.
    const readers = new Set<RegisteredSchema>();
    for (const { ref } of out) {
      const reader = this.targets.get(ref.entity)?.schema;
      if (reader) readers.add(reader);
    }
    const writers = await this.resolveWriters(schemaIds, readers);
    for (const { ref, entries } of out) {
      const reader = this.targets.get(ref.entity)?.schema;
      if (!reader) continue;
      for (const entry of entries) {
        if (!entry.envelope) continue;
        try {
          entry.event = this.sinkEvent(entry.envelope, reader, writers, entry.id);
          // The event holds what is needed from here on; the envelope would only outlive it.
          entry.envelope = undefined;
        } catch (err) {
          entry.error = err as Error;
        }
      }
    }
    return out;
  }

  /** Decodes one entry on its own (one its read could not decode: its entity was not known). */
  async decodeLate(entry: DecodedEntry, reader: RegisteredSchema): Promise<void> {
    if (entry.deleted) return;
    try {
      entry.envelope = entry.read.envelope(entry.index);
      entry.event = await this.toSinkEvent(reader, entry.envelope, entry.id);
    } catch (err) {
      entry.error = err as Error;
    }
  }

  /**
   * An event from an entry's fields as kept in a dead letter (re-drive), read at position `id`:
   * its version too, unless the fields name another (`VERSION_FIELD`).
   */
  async decodeFields(reader: RegisteredSchema, id: string, fields: Buffer[]): Promise<SinkEvent> {
    return this.toSinkEvent(reader, decodeEnvelope(versionInFields(fields) ?? id, fields), id);
  }

  private async toSinkEvent(
    reader: RegisteredSchema,
    event: ChangeEvent,
    position: string,
  ): Promise<SinkEvent> {
    const ids = new Set(event.schemaId === undefined ? [] : [event.schemaId]);
    return this.sinkEvent(event, reader, await this.resolveWriters(ids, [reader]), position);
  }

  /**
   * Writer schema and resolver for every pair of these schema ids and readers; an id that cannot
   * be looked up maps to its error (its events become dead letters).
   */
  private async resolveWriters(
    schemaIds: ReadonlySet<number>,
    readers: Iterable<RegisteredSchema>,
  ): Promise<Map<string, ResolvedWriter | Error>> {
    const resolved = new Map<string, ResolvedWriter | Error>();
    for (const reader of readers) {
      for (const id of schemaIds) {
        try {
          const writer = await this.registry.get(id);
          resolved.set(writerKey(id, reader), {
            writer,
            resolver: await this.registry.resolver(id, reader),
          });
        } catch (err) {
          resolved.set(writerKey(id, reader), err as Error);
        }
      }
    }
    return resolved;
  }

  /**
   * The event with its payload resolved from writer to reader schema; the record is decoded
   * here, ahead of the apply, unless the sink transcodes payloads itself.
   */
  private sinkEvent(
    event: ChangeEvent,
    reader: RegisteredSchema,
    writers: ReadonlyMap<string, ResolvedWriter | Error>,
    position: string,
  ): SinkEvent {
    if (event.op !== 'upsert')
      return new DecodedEvent(event, reader, undefined, undefined, position);
    const resolved = writers.get(writerKey(event.schemaId!, reader));
    if (!resolved) throw new Error(`schema ${event.schemaId} was not looked up`);
    if (resolved instanceof Error) throw resolved;
    const decoded = new DecodedEvent(event, reader, resolved.writer, resolved.resolver, position);
    if (!this.readsPayloads) decoded.decode();
    return decoded;
  }
}

function writerKey(schemaId: number, reader: RegisteredSchema): string {
  return `${schemaId}>${reader.id}`;
}
