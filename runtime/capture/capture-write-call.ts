import { CaptureWriteCode } from '../commands/index.ts';
import {
  type ChangeEventInput,
  ENVELOPE_FIELDS,
  envelopeValues,
  SCHEMA_ID_POSITION,
} from '../envelope.ts';
import type { Keys } from '../keys.ts';
import { stringifyExactJson } from '../schema/exact-json.ts';
import type { PreparedWrite } from './prepared-write.ts';

/** The KEYS and ARGV of one `capture-write.lua` call. */
export interface CaptureWriteCall {
  keys: string[];
  args: Array<string | number | Buffer>;
}

/** What the script did with one write. */
export interface CaptureWriteReply {
  code: CaptureWriteCode;
  /** The new event's id, the first event's id for an idempotent repeat, `''` for a mismatch. */
  id: string;
}

/**
 * Lays out writes of one partition as one `capture-write.lua` call (see its header): the names of
 * the event fields the call's writes have, once, then per write only values, and an idempotency
 * record key only for a write that has an idempotency key. A single write is a call of one, and
 * sends no name or empty value for fields it does not have (no idempotency key, no trace id).
 */
export function captureWriteCall(
  keys: Keys,
  writes: readonly PreparedWrite[],
  idempotencyWindowMs: number,
  traceId: string | undefined,
): CaptureWriteCall {
  const values = writes.map((write) => envelopeValues(eventOf(write, traceId)));
  // Only the fields some event of the call has: one no event has is neither named nor sent.
  const fields: number[] = [];
  for (let f = 0; f < ENVELOPE_FIELDS.length; f++) {
    if (values.some((v) => v[f] !== '')) fields.push(f);
  }
  const first = writes[0]!;
  const callKeys: string[] = [keys.stream(first.entity, first.partition)];
  const args: Array<string | number | Buffer> = [
    writes.length,
    idempotencyWindowMs,
    fields.length,
    fields.indexOf(SCHEMA_ID_POSITION) + 1,
  ];
  for (const f of fields) args.push(ENVELOPE_FIELDS[f]!);
  writes.forEach((write, i) => {
    const { entity, key, partition } = write;
    callKeys.push(keys.cache(entity, partition, key));
    if (write.idempotencyKey) {
      callKeys.push(keys.idempotency(entity, partition, key, write.idempotencyKey));
    }
    args.push(
      write.op === 'upsert' ? 'u' : 'd',
      write.record ? (stringifyExactJson(write.record) ?? '') : '',
      write.expectedVersion,
      write.idempotencyKey ?? '',
    );
    const own = values[i]!;
    for (const f of fields) args.push(own[f]!);
  });
  return { keys: callKeys, args };
}

/** Reads a call's flat reply: per write, its event id and its code. */
export function captureWriteReplies(
  reply: ReadonlyArray<string | number>,
  count: number,
): CaptureWriteReply[] {
  const out: CaptureWriteReply[] = new Array(count);
  for (let j = 0; j < count; j++) {
    const code = Number(reply[2 * j + 1]);
    // Only a script out of step with this client answers anything else: a bug, not a refusal.
    if (!isCaptureWriteCode(code)) {
      throw new TypeError(`capture-write answered ${String(reply[2 * j + 1])} for write ${j}`);
    }
    out[j] = { code, id: String(reply[2 * j]) };
  }
  return out;
}

function isCaptureWriteCode(code: number): code is CaptureWriteCode {
  return (
    code === CaptureWriteCode.Written ||
    code === CaptureWriteCode.Duplicate ||
    code === CaptureWriteCode.VersionMismatch
  );
}

/**
 * The change event a prepared write appends. Absent fields are left undefined (the codec sends
 * `''` for them) rather than spread in: this runs once per write, on every write's path.
 */
function eventOf(write: PreparedWrite, traceId: string | undefined): ChangeEventInput {
  const upsert = write.op === 'upsert';
  return {
    op: write.op,
    entity: write.entity,
    key: write.key,
    capturedAt: Date.now(),
    schemaId: upsert ? write.schemaId : undefined,
    payload: upsert ? write.payload : undefined,
    idempotencyKey: write.idempotencyKey,
    traceId: traceId || undefined,
  };
}
