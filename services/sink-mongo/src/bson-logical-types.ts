import avro from 'avsc';

const DAY_MS = 86_400_000;
/** 0000-01-01 and 9999-12-31 in days since the epoch: the dates an ISO `YYYY-MM-DD` can name. */
const FIRST_DAY = -719_528;
const LAST_DAY = 2_932_896;
/** The range of a JavaScript Date, in ms either side of the epoch. */
const MAX_MS = 8.64e15;

/**
 * Thrown while decoding a payload for a value the sink's BSON form does not take (a date beyond
 * year 9999, a timestamp beyond the range of a Date). The document decoder then leaves the event
 * to the record path, which reports it as it always has (a mapping error naming the field, or an
 * undecodable payload).
 */
export class UnmappableValue extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'UnmappableValue';
  }
}

/**
 * Avro `date` decoded straight to what the MongoDB sink stores: a Date at 00:00 UTC of that day.
 * The runtime's own `date` (runtime/schema/logical-types.ts) gives an ISO `YYYY-MM-DD` string,
 * which the sink would only parse back. Only the years an ISO date can write (0000–9999) are taken,
 * as the sink takes them from that string. Spec: https://avro.apache.org/docs/1.11.1/specification/#date
 */
export class BsonDateType extends avro.types.LogicalType {
  protected override _fromValue(days: number): Date {
    if (days < FIRST_DAY || days > LAST_DAY) throw new UnmappableValue(`date ${days} out of range`);
    return new Date(days * DAY_MS);
  }

  // Reader defaults are copied through here, from what _fromValue gave.
  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
    if (value instanceof Date) {
      const ms = value.getTime();
      return Number.isNaN(ms) ? undefined : Math.floor(ms / DAY_MS);
    }
    return undefined;
  }

  // Resolves from the same writer types as the runtime's `date`: the writer's value is already a Date.
  protected override _resolve(type: avro.Type): ((value: never) => Date) | undefined {
    if (avro.Type.isType(type, 'logical:date')) return (value: Date) => value;
    if (avro.Type.isType(type, 'int')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/**
 * Avro `timestamp-millis` decoded straight to a Date (the runtime's gives an ISO string).
 * Spec: https://avro.apache.org/docs/1.11.1/specification/#timestamp-millisecond-precision
 */
export class BsonTimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(ms: number): Date {
    if (!(ms >= -MAX_MS && ms <= MAX_MS)) throw new UnmappableValue(`timestamp ${ms} out of range`);
    return new Date(ms);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
    if (value instanceof Date) {
      const ms = value.getTime();
      return Number.isNaN(ms) ? undefined : ms;
    }
    return undefined;
  }

  protected override _resolve(type: avro.Type): ((value: never) => Date) | undefined {
    if (avro.Type.isType(type, 'logical:timestamp-millis')) return (value: Date) => value;
    if (avro.Type.isType(type, 'long', 'int')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/**
 * The logical types payloads are decoded with on the document path: the runtime's set
 * (runtime/schema/logical-types.ts), with values in their BSON form. Any other logical type
 * (`decimal`, `uuid`, …) is read as its underlying type, as the runtime reads it.
 */
export const bsonLogicalTypes = {
  date: BsonDateType,
  'timestamp-millis': BsonTimestampMillisType,
} as const;
