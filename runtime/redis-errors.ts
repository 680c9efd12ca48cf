import { ReplyError } from 'ioredis';
import { CdcError } from './errors/cdc-error.ts';
import { RedisUnavailableError } from './errors/redis-unavailable-error.ts';

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

/**
 * Error replies by which Redis refuses a command for now, not for good: it is loading its data
 * set (`LOADING`), a script runs too long (`BUSY`), it cannot persist (`MISCONF`), a replica lost
 * its primary (`MASTERDOWN`), the cluster is down or moving a slot (`CLUSTERDOWN`, `TRYAGAIN`),
 * too few replicas are there for `min-replicas-to-write` (`NOREPLICAS`).
 */
const NOT_NOW_REPLIES: ReadonlySet<string> = new Set([
  'LOADING',
  'BUSY',
  'MISCONF',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'NOREPLICAS',
]);

/** An error reply saying Redis cannot serve the command now but may later. */
export function isNotNowReply(error: unknown): boolean {
  const code = redisErrorCode(error);
  return code !== undefined && NOT_NOW_REPLIES.has(code);
}

/**
 * Node socket error codes (`err.code`) of a connection that could not be opened or was lost
 * (https://nodejs.org/api/errors.html#common-system-errors); ioredis sets `ETIMEDOUT` on its own
 * connect timeout too.
 */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A socket error of a connection that could not be opened or was lost, read by its code. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && CONNECTION_ERROR_CODES.has(code);
}

/**
 * What a failed Redis command threw, as the error to throw on. An error reply stays as it is
 * (Redis refused the command; `redisErrorCode` says why), and so does an error the runtime typed
 * already. Anything else means Redis could not serve the command now: a "not now" reply, or no
 * answer at all, however ioredis reports it (`AbortError`, `MaxRetriesPerRequestError`, a socket
 * error, a plain "Connection is closed." error): a RedisUnavailableError, retriable. This holds
 * because ioredis rejects a command with a ReplyError exactly when an answer came, so no message
 * is read; apply it to what a Redis command threw, not to arbitrary errors.
 */
export function commandFailure(error: unknown, command: string): unknown {
  if (error instanceof CdcError) return error;
  if (error instanceof ReplyError && !isNotNowReply(error)) return error;
  return new RedisUnavailableError(command, error);
}
