import { randomBytes } from 'node:crypto';

/** PostgreSQL truncates identifiers to 63 bytes; MongoDB database names must stay under 64. */
const MAX_LENGTH = 63;

/**
 * A fresh name for one test's data: `t_<label>_<8 hex>`.
 *
 * Only `[a-z0-9_]` is used, so the same string works unquoted as a Redis key prefix, a
 * PostgreSQL schema, a MongoDB database and a Kafka topic prefix. The random suffix keeps
 * concurrent test files (and reruns after a crash that skipped cleanup) apart.
 */
export function uniqueNamespace(label: string): string {
  const suffix = randomBytes(4).toString('hex');
  const room = MAX_LENGTH - 't__'.length - suffix.length;
  const safeLabel =
    label
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, room) || 'test';
  return `t_${safeLabel}_${suffix}`;
}
