import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * An event's Avro payload cannot be decoded with the schema it names (truncated, corrupt, or
 * written with another schema). Permanent: the event goes to the dead letters.
 */
export class PayloadError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.PayloadUndecodable, retriable: false, cause });
  }
}
