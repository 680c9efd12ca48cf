import type { ErrorCode } from './error-code.ts';

/**
 * Base of every error the runtime throws. `retriable` is decided where the error is thrown
 * (the thrower knows whether trying again can help); the central retrier only reads it.
 */
export class CdcError extends Error {
  /** Stable machine-readable code, e.g. `VALIDATION_FAILED`. */
  readonly code: ErrorCode;
  /** Whether repeating the same operation later may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { code: ErrorCode; retriable?: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retriable = options.retriable ?? false;
  }
}
