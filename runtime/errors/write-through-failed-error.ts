import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * A write-through's event reached a sink that could not apply it: the sink dead-lettered it (or
 * held it behind an earlier failure of the same key). The event is in the log and the cache; the
 * sink's dead letters say why, and an operator can re-drive it once the cause is fixed.
 */
export class WriteThroughFailedError extends CdcError {
  readonly eventId: string;
  readonly sink: string;
  readonly reason: string;

  constructor(eventId: string, sink: string, reason: string) {
    super(`sink ${sink} could not apply event ${eventId}: ${reason}`, {
      code: ErrorCode.WriteThroughFailed,
      retriable: false,
    });
    this.eventId = eventId;
    this.sink = sink;
    this.reason = reason;
  }
}
