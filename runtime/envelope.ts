import { EnvelopeError } from './errors/envelope-error.ts';
import type { RespReply } from './resp/resp-reply.ts';
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

const NAME_BYTES: readonly Buffer[] = ENVELOPE_FIELDS.map((name) => Buffer.from(name, 'latin1'));

/** Which envelope field the name in data[start, end) is; -1 for names the envelope does not know. */
function slotOf(data: Buffer, start: number, end: number): number {
  // Sinks decode every entry of the stream: comparing a few bytes instead of turning each name
  // into a string and looking it up was a tenth of a sink's decoding time.
  const length = end - start;
  for (let slot = 0; slot < NAME_BYTES.length; slot++) {
    const candidate = NAME_BYTES[slot]!;
    if (candidate.length !== length) continue;
    let i = 0;
    while (i < length && data[start + i] === candidate[i]) i++;
    if (i === length) return slot;
  }
  return -1;
}

/** The entity named last, as bytes and as a string: a stream holds one entity. */
let lastEntity: { bytes: Buffer; name: string } | undefined;

/** The entity field as a string, without decoding it again when it names the last entity. */
function entityName(data: Buffer, start: number, end: number): string {
  const last = lastEntity;
  const length = end - start;
  if (last && last.bytes.length === length) {
    let i = 0;
    while (i < length && data[start + i] === last.bytes[i]) i++;
    if (i === length) return last.name;
  }
  const name = data.toString('utf8', start, end);
  lastEntity = { bytes: Buffer.from(data.subarray(start, end)), name };
  return name;
}

/** The decimal in data[start, end) as a safe integer, or NaN. */
function decimal(data: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return Number.NaN;
  let result = 0;
  for (let i = start; i < end; i++) {
    const digit = data[i]! - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    result = result * 10 + digit;
  }
  // Beyond 15 digits the sum may have lost precision: the caller's safe-integer check decides.
  return n > 15 ? Number(data.toString('latin1', start, end)) : result;
}

/**
 * Where each ENVELOPE_FIELDS value lies in the entry's bytes: start and end per slot, -1 when the
 * entry lacks the field. One scratch array, filled and read within one synchronous decode.
 */
const SPANS = new Int32Array(ENVELOPE_FIELDS.length * 2);
const PAYLOAD_SLOT = ENVELOPE_FIELDS.indexOf(FIELD.payload);

/**
 * Decodes a stream entry read as a RESP reply's tokens (`items` field names and values from
 * token `at`, see stream-entries.ts) into an event. The payload is a view of the reply's bytes.
 * Throws EnvelopeError for anything that is not a well-formed event: such an entry can never be
 * applied and belongs in the dead letters.
 */
export function decodeEnvelopeTokens(
  id: string,
  reply: RespReply,
  at: number,
  items: number,
): ChangeEvent {
  if (!isStreamId(id)) throw new EnvelopeError(`entry id "${id}" is not a stream id`);
  if (items % 2 !== 0) throw new EnvelopeError(`entry ${id} has an odd number of field items`);
  const { tokens, data } = reply;
  SPANS.fill(-1);
  // A repeated name keeps its last value.
  for (let t = at * 3; t < (at + items) * 3; t += 6) {
    const slot = slotOf(data, tokens[t + 1]!, tokens[t + 2]!);
    if (slot >= 0) {
      SPANS[slot * 2] = tokens[t + 4]!;
      SPANS[slot * 2 + 1] = tokens[t + 5]!;
    }
  }
  return fromSpans(id, data);
}

/**
 * Decodes a stream entry (fields as read by `xreadgroupBuffer`/`xrangeBuffer`) into an event.
 * Throws EnvelopeError for anything that is not a well-formed event.
 */
export function decodeEnvelope(id: string, raw: ReadonlyArray<Buffer | string>): ChangeEvent {
  if (!isStreamId(id)) throw new EnvelopeError(`entry id "${id}" is not a stream id`);
  if (raw.length % 2 !== 0) throw new EnvelopeError(`entry ${id} has an odd number of field items`);
  const buffers = raw.map((item) => (typeof item === 'string' ? Buffer.from(item) : item));
  const data = Buffer.concat(buffers);
  SPANS.fill(-1);
  let textPayload = false;
  for (let i = 0, offset = 0; i < buffers.length; i += 2) {
    const name = buffers[i]!;
    const value = buffers[i + 1]!;
    const slot = slotOf(data, offset, offset + name.length);
    offset += name.length;
    if (slot >= 0) {
      SPANS[slot * 2] = offset;
      SPANS[slot * 2 + 1] = offset + value.length;
      if (slot === PAYLOAD_SLOT) textPayload = typeof raw[i + 1] === 'string';
    }
    offset += value.length;
  }
  const event = fromSpans(id, data);
  // A payload read as a string has already been mangled by UTF-8 decoding.
  if (textPayload && event.payload) throw new EnvelopeError(`entry ${id} must be read as buffers`);
  return event;
}

/** The text of one slot's value. */
function slotText(data: Buffer, slot: number): string {
  return data.toString('utf8', SPANS[slot * 2], SPANS[slot * 2 + 1]);
}

/**
 * The event whose field values SPANS locates in data. Runs once per entry a sink reads: no
 * closures here (the TypeScript loader names every closure it creates, which costs more than the
 * rest of this function).
 */
function fromSpans(id: string, data: Buffer): ChangeEvent {
  const s = SPANS;
  // Slots in ENVELOPE_FIELDS order: op, entity, key, ts, sid, data, idem, trace.
  if (s[0]! < 0) throw new EnvelopeError(`entry ${id} has no "${FIELD.op}" field`);
  const opByte = s[1]! - s[0]! === 1 ? data[s[0]!] : undefined;
  const op: Operation | undefined =
    opByte === 0x75 ? 'upsert' : opByte === 0x64 ? 'delete' : undefined;
  if (!op) throw new EnvelopeError(`entry ${id} has unknown operation "${slotText(data, 0)}"`);
  if (s[2]! < 0) throw new EnvelopeError(`entry ${id} has no "${FIELD.entity}" field`);
  if (s[4]! < 0) throw new EnvelopeError(`entry ${id} has no "${FIELD.key}" field`);
  if (s[6]! < 0) throw new EnvelopeError(`entry ${id} has no "${FIELD.capturedAt}" field`);
  const capturedAt = decimal(data, s[6]!, s[7]!);
  if (!Number.isSafeInteger(capturedAt))
    throw new EnvelopeError(`entry ${id} has a bad "ts" field`);
  const event: ChangeEvent = {
    id,
    op,
    entity: entityName(data, s[2]!, s[3]!),
    key: slotText(data, 2),
    capturedAt,
  };
  if (op === 'upsert') {
    if (s[8]! < 0) throw new EnvelopeError(`entry ${id} has no "${FIELD.schemaId}" field`);
    const schemaId = decimal(data, s[8]!, s[9]!);
    if (!Number.isSafeInteger(schemaId) || schemaId < 1) {
      throw new EnvelopeError(`entry ${id} has a bad schema id`);
    }
    if (s[10]! < 0) throw new EnvelopeError(`entry ${id} has no "data" field`);
    event.schemaId = schemaId;
    event.payload = data.subarray(s[10], s[11]);
  }
  if (s[13]! > s[12]!) event.idempotencyKey = slotText(data, 6);
  if (s[15]! > s[14]!) event.traceId = slotText(data, 7);
  return event;
}
