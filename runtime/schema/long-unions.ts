import type avro from 'avsc';
import { ExactLongType } from './exact-long-type.ts';

/** avsc's unwrapped union keeps the branch of each kind of value here (its `getValueBucket`). */
interface BucketedUnion {
  types: avro.Type[];
  _bucketIndices: Record<string, number | undefined>;
}

/**
 * Lets unwrapped unions such as `["null", "long"]` take a long beyond ±(2^53 − 1), which is a
 * BigInt, and a long given as a string of digits. avsc picks an unwrapped union's branch by the
 * kind of the value (`typeof`), and knows `number` for a long but neither `bigint` nor (for a long)
 * `string`: those kinds are pointed at the union's long branch here, the string only when no
 * branch of the union takes strings. The union object is frozen, its table of kinds is not.
 * Walks the whole type once (records, arrays, maps, unions, logical types); returns it.
 */
export function admitLongsInUnions(type: avro.Type): avro.Type {
  visit(type, new Set());
  return type;
}

function visit(type: avro.Type, seen: Set<avro.Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  const inner = type as unknown as {
    types?: avro.Type[];
    fields?: avro.types.Field[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    underlyingType?: avro.Type;
  };
  if (type.typeName === 'union:unwrapped') admit(type as unknown as BucketedUnion);
  for (const child of inner.types ?? []) visit(child, seen);
  for (const field of inner.fields ?? []) visit(field.type, seen);
  if (inner.itemsType) visit(inner.itemsType, seen);
  if (inner.valuesType) visit(inner.valuesType, seen);
  if (inner.underlyingType) visit(inner.underlyingType, seen);
}

function admit(union: BucketedUnion): void {
  const buckets = union._bucketIndices;
  const index = buckets.number;
  if (index === undefined || !(union.types[index] instanceof ExactLongType)) return;
  buckets.bigint ??= index;
  buckets.string ??= index;
}
