import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ValidationError } from '../../../runtime/errors/validation-error.ts';
import { WriteThroughFailedError } from '../../../runtime/errors/write-through-failed-error.ts';
import { WriteThroughTimeoutError } from '../../../runtime/errors/write-through-timeout-error.ts';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: string;
  message: string;
  issues?: ReadonlyArray<{ path: string; message: string }>;
  eventId?: string;
}

const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  UNKNOWN_ENTITY: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NO_SINKS: 409,
  SCHEMA_INCOMPATIBLE: 409,
  WRITE_THROUGH_TIMEOUT: 504,
  WRITE_THROUGH_FAILED: 502,
};

/** Maps an error to an HTTP status and body. Unknown errors are 500 without internals, or 503 for Redis. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof CdcError) {
    const body: ErrorBody = { error: err.code, message: err.message };
    if (err instanceof ValidationError) body.issues = err.issues;
    if (err instanceof WriteThroughTimeoutError || err instanceof WriteThroughFailedError) {
      body.eventId = err.eventId;
    }
    return { status: STATUS_BY_CODE[err.code] ?? (err.retriable ? 503 : 500), body };
  }
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors: body too large (413), malformed JSON (400), wrong media type (415).
    const code = String((err as { code?: unknown }).code ?? 'BAD_REQUEST');
    return { status, body: { error: code, message: (err as Error).message } };
  }
  const name = (err as Error)?.constructor?.name ?? '';
  if (/Redis|Connection|ECONNREFUSED|ETIMEDOUT/i.test(`${name} ${(err as Error)?.message}`)) {
    return {
      status: 503,
      body: { error: 'UNAVAILABLE', message: 'the log is unreachable; retry later' },
    };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
}
