import { EnvelopeError } from './errors/envelope-error.ts';
import { isStreamId } from './stream-id.ts';

/** What happened to the entity key. */
export type Operation = 'upsert' | 'delete';

/** A change event as the application hands it to the log (the stream assigns the id). */
export interface ChangeEventInput {
  op: Operation;
  entity: string;
  key: string;
  /** Writer schema id; required for an upsert. */
  schemaId?: number;
  /** Avro binary of the whole record, written with `schemaId`; required for an upsert. */
  payload?: Buffer;
  /** When capture accepted the write, ms since the epoch. */
  capturedAt: number;
  idempotencyKey?: string;
  traceId?: string;
}

/** A change event read back from a stream. */
export interface ChangeEvent extends ChangeEventInput {
  /** Stream entry id: the event's position, and its version for sinks. */
  id: string;
}

/**
 * Stream entry field names. Short, because they are stored with every entry.
 *
 * | field  | content                                                   |
 * |--------|-----------------------------------------------------------|
 * | op     | `u` upsert, `d` delete                                    |
 * | entity | entity name                                               |
 * | key    | entity key                                                |
 * | ts     | capture time, ms since the epoch, decimal                 |
 * | sid    | writer schema id, decimal (upserts only)                  |
 * | data   | Avro binary of the whole record (upserts only)            |
 * | idem   | idempotency key (optional)                                |
 * | trace  | trace id (optional)                                       |
 */
export const FIELD = {
  op: 'op',
  entity: 'entity',
  key: 'key',
  capturedAt: 'ts',
  schemaId: 'sid',
  payload: 'data',
  idempotencyKey: 'idem',
  traceId: 'trace',
} as const;

const OP_CODE: Record<Operation, string> = { upsert: 'u', delete: 'd' };

/** The stream entry fields of an event, as XADD's name/value arguments. */
export function encodeEnvelope(event: ChangeEventInput): Array<string | Buffer> {
  const fields: Array<string | Buffer> = [
    FIELD.op,
    OP_CODE[event.op],
    FIELD.entity,
    event.entity,
    FIELD.key,
    event.key,
    FIELD.capturedAt,
    String(event.capturedAt),
  ];
  if (event.op === 'upsert') {
    if (event.schemaId === undefined || event.payload === undefined) {
      throw new EnvelopeError(
        `an upsert of ${event.entity} "${event.key}" needs a schema id and a payload`,
      );
    }
    fields.push(FIELD.schemaId, String(event.schemaId), FIELD.payload, event.payload);
  }
  if (event.idempotencyKey) fields.push(FIELD.idempotencyKey, event.idempotencyKey);
  if (event.traceId) fields.push(FIELD.traceId, event.traceId);
  return fields;
}

/** The envelope's field names in the order `envelopeValues` gives their values. */
export const ENVELOPE_FIELDS: readonly string[] = [
  FIELD.op,
  FIELD.entity,
  FIELD.key,
  FIELD.capturedAt,
  FIELD.schemaId,
  FIELD.payload,
  FIELD.idempotencyKey,
  FIELD.traceId,
];

/** Position of the schema id in `envelopeValues` (the cache keeps it beside the record). */
export const SCHEMA_ID_POSITION = ENVELOPE_FIELDS.indexOf(FIELD.schemaId);

/**
 * The same entry as `encodeEnvelope`, as values only, in `ENVELOPE_FIELDS` order, with `''` for
 * a field the event does not have: a batch sends the names once instead of with every write.
 * Every present value is non-empty (keys, ids and payloads are never empty), so `''` is unambiguous.
 */
export function envelopeValues(event: ChangeEventInput): Array<string | Buffer> {
  const upsert = event.op === 'upsert';
  if (upsert && (event.schemaId === undefined || event.payload === undefined)) {
    throw new EnvelopeError(
      `an upsert of ${event.entity} "${event.key}" needs a schema id and a payload`,
    );
  }
  // Same order as ENVELOPE_FIELDS; the unit tests hold the two forms to each other.
  return [
    OP_CODE[event.op],
    event.entity,
    event.key,
    String(event.capturedAt),
    upsert ? String(event.schemaId) : '',
    upsert ? event.payload! : '',
    event.idempotencyKey ?? '',
    event.traceId ?? '',
  ];
}

/**
 * Decodes a stream entry (fields as read by `xreadgroupBuffer`/`xrangeBuffer`) into an event.
 * Throws EnvelopeError for anything that is not a well-formed event: such an entry can never be
 * applied and belongs in the dead letters.
 */
export function decodeEnvelope(id: string, raw: ReadonlyArray<Buffer | string>): ChangeEvent {
  if (!isStreamId(id)) throw new EnvelopeError(`entry id "${id}" is not a stream id`);
  if (raw.length % 2 !== 0) throw new EnvelopeError(`entry ${id} has an odd number of field items`);
  const fields = new Map<string, Buffer | string>();
  for (let i = 0; i < raw.length; i += 2) fields.set(raw[i]!.toString(), raw[i + 1]!);
  const text = (name: string, required: boolean): string | undefined => {
    const value = fields.get(name);
    if (value === undefined) {
      if (required) throw new EnvelopeError(`entry ${id} has no "${name}" field`);
      return undefined;
    }
    return value.toString();
  };
  const opCode = text(FIELD.op, true);
  const op: Operation | undefined =
    opCode === 'u' ? 'upsert' : opCode === 'd' ? 'delete' : undefined;
  if (!op) throw new EnvelopeError(`entry ${id} has unknown operation "${opCode}"`);
  const capturedAt = Number(text(FIELD.capturedAt, true));
  if (!Number.isSafeInteger(capturedAt))
    throw new EnvelopeError(`entry ${id} has a bad "ts" field`);
  const event: ChangeEvent = {
    id,
    op,
    entity: text(FIELD.entity, true)!,
    key: text(FIELD.key, true)!,
    capturedAt,
  };
  if (op === 'upsert') {
    const schemaId = Number(text(FIELD.schemaId, true));
    if (!Number.isSafeInteger(schemaId) || schemaId < 1) {
      throw new EnvelopeError(`entry ${id} has a bad schema id`);
    }
    const payload = fields.get(FIELD.payload);
    if (payload === undefined) throw new EnvelopeError(`entry ${id} has no "data" field`);
    // A payload read as a string has already been mangled by UTF-8 decoding.
    if (!Buffer.isBuffer(payload)) throw new EnvelopeError(`entry ${id} must be read as buffers`);
    event.schemaId = schemaId;
    event.payload = payload;
  }
  const idem = text(FIELD.idempotencyKey, false);
  if (idem) event.idempotencyKey = idem;
  const trace = text(FIELD.traceId, false);
  if (trace) event.traceId = trace;
  return event;
}
