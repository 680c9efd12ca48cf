/**
 * A key as snake_case: what every `--json` output uses, whatever the table calls the column
 * (`oldest unapplied (s)` -> `oldest_unapplied_s`, `kafkaSinks` -> `kafka_sinks`).
 */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** A value with every object key, at any depth, in snake_case (arrays and scalars kept). */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeKeys(v)]));
  if (typeof value === 'bigint') return Number(value);
  return value;
}
