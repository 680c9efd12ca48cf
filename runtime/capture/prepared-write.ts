import type { EntityRecord } from '../schema/prepare-record.ts';

/** A write validated and encoded, ready for the capture-write script. */
export interface PreparedWrite {
  entity: string;
  /** Schema the payload is written with (upserts). */
  schemaId: number;
  op: 'upsert' | 'delete';
  key: string;
  partition: number;
  /** The validated record, cached as JSON (upserts). */
  record: EntityRecord | undefined;
  /** The record in Avro binary: the event's payload (upserts). */
  payload: Buffer | undefined;
  idempotencyKey: string | undefined;
  /** Compare-and-set: the cached version the write expects, `''` for none, `-` for "not cached". */
  expectedVersion: string;
}
