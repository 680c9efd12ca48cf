import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an `Authorization: Bearer <token>` header in constant time. Both sides are hashed first
 * so that the comparison does not leak the token's length either.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  return sameSecret(header.slice(7), token);
}

/**
 * Checks HTTP basic credentials (RFC 7617) whose password is the token, whatever the user name:
 * how Schema Registry clients authenticate (`basic.auth.user.info` in Confluent's; the `auth`
 * option of @kafkajs/confluent-schema-registry, which has no other way). The scheme name is
 * case-insensitive (RFC 7235 §2.1).
 */
export function basicPasswordMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !/^basic /i.test(header)) return false;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return sameSecret(decoded.slice(colon + 1), token);
}

/** The token as a bearer token, or as the password of basic credentials. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  return bearerMatches(header, token) || basicPasswordMatches(header, token);
}

function sameSecret(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
