import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * A write-through call did not see every required sink apply its event in time. The event is
 * safely in the log and the sinks will still apply it; only the wait gave up.
 */
export class WriteThroughTimeoutError extends CdcError {
  readonly eventId: string;
  readonly pendingSinks: readonly string[];

  constructor(eventId: string, pendingSinks: readonly string[], timeoutMs: number) {
    super(
      `event ${eventId} is in the log but sinks [${pendingSinks.join(', ')}] did not apply it within ${timeoutMs} ms`,
      { code: ErrorCode.WriteThroughTimeout, retriable: true },
    );
    this.eventId = eventId;
    this.pendingSinks = pendingSinks;
  }
}
