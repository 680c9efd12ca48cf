import { ReplyError } from 'ioredis';

/**
 * The error code of a Redis error reply: its first word, upper case (`BUSYGROUP`, `NOGROUP`,
 * `NOSCRIPT`, `WRONGPASS`), as the protocol defines it
 * (https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors); undefined for
 * anything that is not an error reply. Code that reacts to a Redis error reads this, never the
 * rest of the message, whose wording changes between versions.
 */
export function redisErrorCode(error: unknown): string | undefined {
  if (!(error instanceof ReplyError)) return undefined;
  const message = String((error as Error).message);
  const space = message.indexOf(' ');
  const code = space < 0 ? message : message.slice(0, space);
  return /^[A-Z][A-Z0-9_-]*$/.test(code) ? code : undefined;
}

/** XGROUP CREATE of a group that exists already. */
export function isBusyGroup(error: unknown): boolean {
  return redisErrorCode(error) === 'BUSYGROUP';
}

/** A stream command naming a group (or stream) that does not exist. */
export function isNoGroup(error: unknown): boolean {
  return redisErrorCode(error) === 'NOGROUP';
}

/**
 * A command on a key that does not exist where Redis has no code of its own for it (XINFO
 * answers `ERR no such key`): the only place that reads an error reply's wording.
 */
export function isNoSuchKey(error: unknown): boolean {
  return redisErrorCode(error) === 'ERR' && /no such key/i.test((error as Error).message);
}
