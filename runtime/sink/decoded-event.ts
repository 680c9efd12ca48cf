import type avro from 'avsc';
import type { ChangeEvent } from '../envelope.ts';
import { PayloadError } from '../errors/payload-error.ts';
import type { RegisteredSchema } from '../schema/schema-registry.ts';
import type { SinkEvent } from './sink.ts';

/**
 * A SinkEvent whose record is decoded on first access. Sinks that transcode the payload
 * themselves (PostgreSQL) never pay for building the record; the others have it decoded ahead by
 * the runtime, which reads `record` once while the previous batch is applied.
 */
export class DecodedEvent implements SinkEvent {
  readonly id: string;
  readonly position: string;
  readonly op: 'upsert' | 'delete';
  readonly entity: string;
  readonly key: string;
  readonly capturedAt: number;
  readonly payload: Buffer | undefined;
  readonly writer: RegisteredSchema | undefined;
  readonly #reader: RegisteredSchema;
  readonly #resolver: avro.Resolver | undefined;
  // undefined: not decoded yet (a delete's record is undefined too, but it has no payload).
  #record: Record<string, unknown> | undefined;

  constructor(
    event: ChangeEvent,
    reader: RegisteredSchema,
    writer: RegisteredSchema | undefined,
    resolver: avro.Resolver | undefined,
    /** Where the source read it; the partition streams' position is the event's id. */
    position: string = event.id,
  ) {
    this.id = event.id;
    this.position = position;
    this.op = event.op;
    this.entity = event.entity;
    this.key = event.key;
    this.capturedAt = event.capturedAt;
    this.payload = event.op === 'upsert' ? event.payload : undefined;
    this.writer = writer;
    this.#reader = reader;
    this.#resolver = resolver;
  }

  /** The record decoded with the reader schema; throws PayloadError when it cannot be. */
  get record(): Record<string, unknown> | undefined {
    return this.decode();
  }

  /** Decodes the record now (if not done yet) and returns it. */
  decode(): Record<string, unknown> | undefined {
    if (this.#record === undefined && this.payload) {
      try {
        this.#record = this.#reader.type.fromBuffer(this.payload, this.#resolver) as Record<
          string,
          unknown
        >;
      } catch (err) {
        throw new PayloadError(
          `payload of ${this.entity} "${this.key}" (${this.id}) cannot be decoded with schema ${this.writer?.id ?? '?'}: ${(err as Error).message}`,
          err,
        );
      }
    }
    return this.#record;
  }
}
