import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** A stream entry is not a well-formed change event. Permanent: it goes to the dead letters. */
export class EnvelopeError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.EnvelopeInvalid, retriable: false, cause });
  }
}
