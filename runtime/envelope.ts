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

/** Position of each known field name in a decoded entry's slots; unknown names are ignored. */
const SLOT: ReadonlyMap<string, number> = new Map(ENVELOPE_FIELDS.map((name, i) => [name, i]));
const NAME_BYTES: readonly Buffer[] = ENVELOPE_FIELDS.map((name) => Buffer.from(name, 'latin1'));

/** Which envelope field a field name is; -1 for names the envelope does not know. */
function slotOf(name: Buffer | string): number {
  if (typeof name === 'string') return SLOT.get(name) ?? -1;
  // Sinks decode every entry of the stream: comparing a few bytes instead of turning each name
  // into a string and looking it up was a tenth of a sink's decoding time.
  for (let slot = 0; slot < NAME_BYTES.length; slot++) {
    const candidate = NAME_BYTES[slot]!;
    if (candidate.length !== name.length) continue;
    let i = 0;
    while (i < name.length && name[i] === candidate[i]) i++;
    if (i === name.length) return slot;
  }
  return -1;
}

/** The entity named last, as bytes and as a string: a stream holds one entity. */
let lastEntity: { bytes: Buffer; name: string } | undefined;

/** The entity field as a string, without decoding it again when it names the last entity. */
function entityName(value: Buffer | string): string {
  if (typeof value === 'string') return value;
  const last = lastEntity;
  if (last && last.bytes.length === value.length) {
    let i = 0;
    while (i < value.length && value[i] === last.bytes[i]) i++;
    if (i === value.length) return last.name;
  }
  const name = value.toString();
  lastEntity = { bytes: Buffer.from(value), name };
  return name;
}

/** A decimal field as a safe integer, or NaN. */
function decimal(value: Buffer | string): number {
  if (typeof value === 'string')
    return value === '' || /\D/.test(value) ? Number.NaN : Number(value);
  const n = value.length;
  if (n === 0 || n > 15) return n === 0 ? Number.NaN : Number(value.toString('latin1'));
  let result = 0;
  for (let i = 0; i < n; i++) {
    const digit = value[i]! - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    result = result * 10 + digit;
  }
  return result;
}

/**
 * Decodes a stream entry (fields as read by `xreadgroupBuffer`/`xrangeBuffer`) into an event.
 * Throws EnvelopeError for anything that is not a well-formed event: such an entry can never be
 * applied and belongs in the dead letters.
 */
export function decodeEnvelope(id: string, raw: ReadonlyArray<Buffer | string>): ChangeEvent {
  if (!isStreamId(id)) throw new EnvelopeError(`entry id "${id}" is not a stream id`);
  if (raw.length % 2 !== 0) throw new EnvelopeError(`entry ${id} has an odd number of field items`);
  // One slot per ENVELOPE_FIELDS name; a repeated name keeps its last value.
  const slots: Array<Buffer | string | undefined> = new Array(ENVELOPE_FIELDS.length);
  for (let i = 0; i < raw.length; i += 2) {
    const slot = slotOf(raw[i]!);
    if (slot >= 0) slots[slot] = raw[i + 1]!;
  }
  // ENVELOPE_FIELDS order.
  const [opValue, entity, key, ts, sid, payload, idem, trace] = slots;
  if (opValue === undefined) throw new EnvelopeError(`entry ${id} has no "${FIELD.op}" field`);
  const opCode = opValue.toString();
  const op: Operation | undefined =
    opCode === 'u' ? 'upsert' : opCode === 'd' ? 'delete' : undefined;
  if (!op) throw new EnvelopeError(`entry ${id} has unknown operation "${opCode}"`);
  if (entity === undefined) throw new EnvelopeError(`entry ${id} has no "${FIELD.entity}" field`);
  if (key === undefined) throw new EnvelopeError(`entry ${id} has no "${FIELD.key}" field`);
  if (ts === undefined) throw new EnvelopeError(`entry ${id} has no "${FIELD.capturedAt}" field`);
  const capturedAt = decimal(ts);
  if (!Number.isSafeInteger(capturedAt))
    throw new EnvelopeError(`entry ${id} has a bad "ts" field`);
  const event: ChangeEvent = {
    id,
    op,
    entity: entityName(entity),
    key: key.toString(),
    capturedAt,
  };
  if (op === 'upsert') {
    if (sid === undefined) throw new EnvelopeError(`entry ${id} has no "${FIELD.schemaId}" field`);
    const schemaId = decimal(sid);
    if (!Number.isSafeInteger(schemaId) || schemaId < 1) {
      throw new EnvelopeError(`entry ${id} has a bad schema id`);
    }
    if (payload === undefined) throw new EnvelopeError(`entry ${id} has no "data" field`);
    // A payload read as a string has already been mangled by UTF-8 decoding.
    if (!Buffer.isBuffer(payload)) throw new EnvelopeError(`entry ${id} must be read as buffers`);
    event.schemaId = schemaId;
    event.payload = payload;
  }
  if (idem !== undefined && idem.length > 0) event.idempotencyKey = idem.toString();
  if (trace !== undefined && trace.length > 0) event.traceId = trace.toString();
  return event;
}
