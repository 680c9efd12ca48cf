import avro from 'avsc';

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Avro `date` (an int counting days since 1970-01-01) exposed to JavaScript as an ISO
 * `YYYY-MM-DD` string, which is what JSON clients send and what SQL `date` columns accept.
 * Accepts an ISO date string, a `Date` or the raw day count on input.
 * Spec: https://avro.apache.org/docs/1.11.1/specification/#date
 */
export class DateType extends avro.types.LogicalType {
  protected override _fromValue(days: number): string {
    return new Date(days * DAY_MS).toISOString().slice(0, 10);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
    if (value instanceof Date) {
      const ms = value.getTime();
      return Number.isNaN(ms) ? undefined : Math.floor(ms / DAY_MS);
    }
    if (typeof value !== 'string') return undefined;
    const match = ISO_DATE.exec(value);
    if (!match) return undefined;
    // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear takes the year as written.
    const day = new Date(0);
    day.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    const ms = day.getTime();
    // Date.UTC rolls 2023-02-31 over into March; a date that does not round-trip is invalid.
    if (new Date(ms).toISOString().slice(0, 10) !== value) return undefined;
    return ms / DAY_MS;
  }

  // avsc hands the resolver what the writer type read: a string when the writer is a date too.
  protected override _resolve(type: avro.Type): ((value: never) => string) | undefined {
    if (avro.Type.isType(type, 'logical:date')) return (value: string) => value;
    if (avro.Type.isType(type, 'int')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/**
 * Avro `timestamp-millis` (a long of milliseconds since the epoch) exposed as an ISO-8601 string
 * in UTC. Accepts an ISO string with a time zone, a `Date` or the raw millisecond count.
 * Spec: https://avro.apache.org/docs/1.11.1/specification/#timestamp-millisecond-precision
 */
export class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(ms: number): string {
    return new Date(ms).toISOString();
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
    if (value instanceof Date) {
      const ms = value.getTime();
      return Number.isNaN(ms) ? undefined : ms;
    }
    if (typeof value !== 'string') return undefined;
    // The form this type itself produces (toISOString) is by far the most common: parse it directly.
    if (value.length === 24 && CANONICAL.test(value)) {
      const ms = Date.parse(value);
      // Date.parse rolls 02-31 over into March; an impossible date does not round-trip.
      return !Number.isNaN(ms) && new Date(ms).toISOString() === value ? ms : undefined;
    }
    // Only full ISO date-times or plain dates: Date.parse alone accepts too many formats.
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
      return undefined;
    }
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }

  protected override _resolve(type: avro.Type): ((value: never) => string) | undefined {
    if (avro.Type.isType(type, 'logical:timestamp-millis')) return (value: string) => value;
    if (avro.Type.isType(type, 'long', 'int')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/** The logical types every schema of the project is parsed with. */
export const logicalTypes = {
  date: DateType,
  'timestamp-millis': TimestampMillisType,
} as const;
