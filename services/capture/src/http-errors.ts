import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../../runtime/errors/error-code.ts';
import { ValidationError } from '../../../runtime/errors/validation-error.ts';
import { WriteThroughFailedError } from '../../../runtime/errors/write-through-failed-error.ts';
import { WriteThroughTimeoutError } from '../../../runtime/errors/write-through-timeout-error.ts';
import { isConnectionError, isNotNowReply } from '../../../runtime/redis-errors.ts';

/** The JSON body of every error answer. */
export interface ErrorBody {
  /** An `ErrorCode`, or for a request refused before it reached capture, the HTTP layer's code. */
  error: string;
  message: string;
  issues?: ReadonlyArray<{ path: string; message: string }>;
  eventId?: string;
}

/**
 * The HTTP status of every error code. A `Record` over the enum, so a code added without a status
 * does not compile. 5xx: not the client's doing; 503 and 504 pass by themselves (the errors
 * behind them are retriable), 500 and 502 need someone to look.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.UnknownEntity]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.NoSinks]: 409,
  [ErrorCode.SchemaIncompatible]: 409,
  [ErrorCode.WriteThroughFailed]: 502,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.RedisReadFailed]: 503,
  [ErrorCode.KafkaProducerFenced]: 503,
  [ErrorCode.WriteThroughTimeout]: 504,
  [ErrorCode.ReplicationUnconfirmed]: 504,
  [ErrorCode.ConfigInvalid]: 500,
  [ErrorCode.EnvelopeInvalid]: 500,
  [ErrorCode.PayloadUndecodable]: 500,
  [ErrorCode.RedisReplyError]: 500,
  [ErrorCode.SchemaNotFound]: 500,
  [ErrorCode.MongoConstraintViolated]: 500,
  [ErrorCode.MongoMappingFailed]: 500,
  [ErrorCode.ServiceStartFailed]: 500,
};

const UNAVAILABLE: ErrorBody = {
  error: ErrorCode.Unavailable,
  message: 'the log is unreachable; retry later',
};

/**
 * Maps an error to an HTTP status and body, by its type: a CdcError by its code; a client error
 * of the HTTP layer by its own 4xx status; a Redis that cannot serve now (a socket error code, a
 * "not now" reply) is 503; anything else is 500 without internals.
 */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof CdcError) {
    const body: ErrorBody = { error: err.code, message: err.message };
    if (err instanceof ValidationError) body.issues = err.issues;
    if (err instanceof WriteThroughTimeoutError || err instanceof WriteThroughFailedError) {
      body.eventId = err.eventId;
    }
    return { status: HTTP_STATUS[err.code], body };
  }
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors: body too large (413), malformed JSON (400), wrong media type (415).
    const code = String((err as { code?: unknown }).code ?? 'BAD_REQUEST');
    return { status, body: { error: code, message: (err as Error).message } };
  }
  // Capture turns what its Redis commands throw into RedisUnavailableError; these are the same
  // failures reaching here some other way.
  if (isConnectionError(err) || isNotNowReply(err)) return { status: 503, body: UNAVAILABLE };
  return { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
}
