import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * Reading from Kafka failed or did not get where it had to in time (a broker down, a consumer
 * that crashed). Retriable: the brokers may answer later.
 */
export class KafkaReadError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.Unavailable, retriable: true, cause });
  }
}
