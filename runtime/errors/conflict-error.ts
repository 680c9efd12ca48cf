import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** A compare-and-set write lost its race too many times in a row. Retrying later may succeed. */
export class ConflictError extends CdcError {
  constructor(message: string) {
    super(message, { code: ErrorCode.Conflict, retriable: true });
  }
}
