import avro from 'avsc';
import type { ValidationIssue } from '../errors/validation-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import { recordFields } from './avro-schema.ts';
import { stringifyExactJson } from './exact-json.ts';
import { ExactLongType, LONG_RANGE } from './exact-long-type.ts';

/**
 * A record that passed its schema: plain JSON values, logical types in ISO form, longs as numbers
 * or, beyond ±(2^53 − 1), as BigInts.
 */
export type EntityRecord = Record<string, unknown>;

const MAX_SHOWN = 60;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = stringifyExactJson(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function describe(type: avro.Type): string {
  if (avro.Type.isType(type, 'union')) {
    return (type as unknown as { types: avro.Type[] }).types.map(describe).join(' or ');
  }
  if (avro.Type.isType(type, 'logical:date')) return 'a date (YYYY-MM-DD)';
  if (avro.Type.isType(type, 'logical:timestamp-millis'))
    return 'a timestamp (ISO-8601 with time zone, or epoch ms)';
  if (type instanceof ExactLongType) return LONG_RANGE;
  return type.typeName;
}

/** Why a long given as a JavaScript number beyond ±(2^53 − 1) is refused, though in range. */
function roundedLong(type: avro.Type, value: unknown): string {
  return type instanceof ExactLongType && typeof value === 'number' && Number.isInteger(value)
    ? ' (a number beyond ±(2^53 − 1) may have lost digits: give it as a BigInt or a string)'
    : '';
}

/** What prepareRecord needs to know of a record type, worked out once per type. */
interface RecordPlan {
  fields: avro.types.Field[];
  names: Set<string>;
  /**
   * Top-level fields whose value a logical type converts (dates, timestamps), or a long (a string
   * of digits, a BigInt within ±(2^53 − 1)), with that type.
   */
  logical: Array<{ name: string; type: LogicalConverter }>;
  /** True when such a type hides deeper (nested records, arrays, maps, unions): clone everything. */
  deepLogical: boolean;
}

const plans = new WeakMap<avro.Type, RecordPlan>();

/** A logical type's conversions, which avsc declares protected. */
interface LogicalConverter {
  _toValue(value: unknown): unknown;
  _fromValue(value: unknown): unknown;
}

/** A type that converts values on their way in: a logical type, or a long (ExactLongType). */
function converts(type: avro.Type): boolean {
  return avro.Type.isType(type, 'logical') || type instanceof ExactLongType;
}

function branchesOf(type: avro.Type): avro.Type[] {
  return avro.Type.isType(type, 'union') ? (type as unknown as { types: avro.Type[] }).types : [];
}

/**
 * The converting type of a field: itself, or the one converting branch of a union such as
 * [null, T]. A long branch counts only beside null alone: in ["string", "long"] a string of
 * digits is the string branch's, which only the union's own copy (clone) tells.
 */
function logicalOf(type: avro.Type): LogicalConverter | undefined {
  if (converts(type)) return type as unknown as LogicalConverter;
  const branches = branchesOf(type);
  const converting = branches.filter(converts);
  if (converting.length !== 1) return undefined;
  const only = converting[0]!;
  if (only instanceof ExactLongType && branches.some((t) => t !== only && t.typeName !== 'null'))
    return undefined;
  return only as unknown as LogicalConverter;
}

function hasDeepLogical(type: avro.Type, seen = new Set<avro.Type>()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  if (converts(type)) return true;
  const inner = type as unknown as {
    types?: avro.Type[];
    fields?: avro.types.Field[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
  };
  const children = [
    ...(inner.types ?? []),
    ...(inner.fields ?? []).map((f) => f.type),
    ...(inner.itemsType ? [inner.itemsType] : []),
    ...(inner.valuesType ? [inner.valuesType] : []),
  ];
  return children.some((child) => hasDeepLogical(child, seen));
}

function planOf(entity: string, type: avro.Type): RecordPlan {
  let plan = plans.get(type);
  if (!plan) {
    const fields = recordFields(type, entity);
    const logical = fields.flatMap((f) => {
      const converter = logicalOf(f.type);
      return converter ? [{ name: f.name, type: converter }] : [];
    });
    plan = {
      fields,
      names: new Set(fields.map((f) => f.name)),
      logical,
      // A field converted on its own may still be a union whose other branches hide one.
      deepLogical: fields.some((f) => {
        const own = logicalOf(f.type) as unknown as avro.Type | undefined;
        if (own === undefined) return hasDeepLogical(f.type);
        return branchesOf(f.type).some((t) => t !== own && hasDeepLogical(t));
      }),
    };
    plans.set(type, plan);
  }
  return plan;
}

/** A UTF-16 code unit of a surrogate pair standing alone (in `u` mode pairs are one code point). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Reports strings that are not well-formed Unicode. JSON can carry a lone surrogate (`"\ud800"`),
 * UTF-8 cannot: the Avro encoder would write bytes no decoder reads back as written, and
 * PostgreSQL refuses them, so such text is refused here, where the client can be told.
 */
function illFormedText(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value))
      issues.push({ path, message: 'is not valid Unicode text (it has a lone surrogate)' });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) illFormedText(value[i], `${path}.${i}`, issues);
  } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    for (const key in value)
      illFormedText((value as Record<string, unknown>)[key], `${path}.${key}`, issues);
  }
}

/**
 * Checks an input object against an entity's record schema and returns its normalized copy:
 * defaults filled in, dates as ISO strings. Every problem is reported with the path of the field
 * (avsc's `errorHook`), so a client learns all of them from one 400 answer.
 *
 * This runs for every write, so the common case stays cheap: one validity check without a hook
 * (the hook only runs again to explain a failure), and only the fields a logical type converts are
 * copied through their type.
 */
export function prepareWrite(entity: string, type: avro.Type, input: unknown): PreparedRecord {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(entity, [
      { path: '', message: `expected a JSON object, got ${show(input)}` },
    ]);
  }
  const plan = planOf(entity, type);
  const filled: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(filled)) {
    if (!plan.names.has(name)) issues.push({ path: name, message: 'is not a field of the schema' });
  }
  for (const field of plan.fields) {
    if (filled[field.name] === undefined) {
      const fallback = field.defaultValue();
      if (fallback !== undefined) filled[field.name] = fallback;
    }
  }
  if (issues.length > 0 || !type.isValid(filled)) {
    type.isValid(filled, {
      errorHook(path: string[], value: unknown, fieldType: avro.Type) {
        // The hook also fires for the enclosing record once an undeclared field was seen.
        if (path.length === 0) return;
        issues.push({
          path: path.join('.'),
          message:
            value === undefined
              ? `is required (${describe(fieldType)})`
              : `expected ${describe(fieldType)}, got ${show(value)}${roundedLong(fieldType, value)}`,
        });
      },
    });
    throw new ValidationError(entity, issues);
  }
  for (const name in filled) illFormedText(filled[name], name, issues);
  if (issues.length > 0) throw new ValidationError(entity, issues);
  // Logical types convert through their type, so the cache and the event hold one form; each
  // value is converted once, and the encodable copy keeps the converted value.
  if (plan.deepLogical) {
    const record = { ...(type.clone(filled) as object) } as EntityRecord;
    return { record, encodable: record };
  }
  const encodable: Record<string, unknown> = { ...filled };
  for (const { name, type: logical } of plan.logical) {
    const value = filled[name];
    if (value === null || value === undefined) continue;
    const raw = logical._toValue(value);
    encodable[name] = raw;
    filled[name] = logical._fromValue(raw);
  }
  return { record: filled as EntityRecord, encodable };
}

/** Validates and normalizes a record (see prepareWrite); the JSON form only. */
export function prepareRecord(entity: string, type: avro.Type, input: unknown): EntityRecord {
  return prepareWrite(entity, type, input).record;
}

/** A validated record in its two forms: `record` for JSON, `encodable` for `type.toBuffer`. */
export interface PreparedRecord {
  /** Dates and timestamps as ISO strings: what the cache holds and readers get back. */
  record: EntityRecord;
  /** The same values with dates and timestamps already converted, so encoding parses nothing. */
  encodable: Record<string, unknown>;
}
