import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * Kafka cannot serve now: a topic whose partitions have no leader yet, a read of the
 * offsets topic that did not reach its end in time or whose consumer crashed. Retriable.
 */
export class KafkaUnavailableError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.Unavailable, retriable: true, cause });
  }
}
