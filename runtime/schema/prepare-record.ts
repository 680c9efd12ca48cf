import avro from 'avsc';
import type { ValidationIssue } from '../errors/validation-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import { recordFields } from './avro-schema.ts';

/** A record that passed its schema: plain JSON-safe values, logical types in ISO form. */
export type EntityRecord = Record<string, unknown>;

const MAX_SHOWN = 60;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function describe(type: avro.Type): string {
  if (avro.Type.isType(type, 'union')) {
    return (type as unknown as { types: avro.Type[] }).types.map(describe).join(' or ');
  }
  if (avro.Type.isType(type, 'logical:date')) return 'a date (YYYY-MM-DD)';
  if (avro.Type.isType(type, 'logical:timestamp-millis'))
    return 'a timestamp (ISO-8601 with time zone, or epoch ms)';
  return type.typeName;
}

/**
 * Checks an input object against an entity's record schema and returns its normalized copy:
 * defaults filled in, dates as ISO strings. Every problem is reported with the path of the field
 * (avsc's `errorHook`), so a client learns all of them from one 400 answer.
 */
export function prepareRecord(entity: string, type: avro.Type, input: unknown): EntityRecord {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(entity, [
      { path: '', message: `expected a JSON object, got ${show(input)}` },
    ]);
  }
  const filled: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const issues: ValidationIssue[] = [];
  const fields = recordFields(type, entity);
  for (const name of Object.keys(filled)) {
    if (!fields.some((f) => f.name === name)) {
      issues.push({ path: name, message: 'is not a field of the schema' });
    }
  }
  for (const field of fields) {
    if (filled[field.name] === undefined) {
      const fallback = field.defaultValue();
      if (fallback !== undefined) filled[field.name] = fallback;
    }
  }
  type.isValid(filled, {
    errorHook(path: string[], value: unknown, fieldType: avro.Type) {
      // The hook also fires for the enclosing record once an undeclared field was seen.
      if (path.length === 0) return;
      issues.push({
        path: path.join('.'),
        message:
          value === undefined
            ? `is required (${describe(fieldType)})`
            : `expected ${describe(fieldType)}, got ${show(value)}`,
      });
    },
  });
  if (issues.length > 0) throw new ValidationError(entity, issues);
  // clone() runs each logical type's conversions, so the cache and the event hold one form.
  return { ...(type.clone(filled) as object) } as EntityRecord;
}
