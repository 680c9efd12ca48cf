import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * A stream read failed: the connection could not be opened or was lost, the server took too
 * long, or its bytes were not valid RESP. Retriable: the read is repeated on a new connection,
 * and entries delivered to a lost reply stay pending for this consumer.
 */
export class RedisReadError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.RedisReadFailed, retriable: true, cause });
  }
}
