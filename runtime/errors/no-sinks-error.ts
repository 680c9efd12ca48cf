import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** A write-through was asked for an entity that no sink consumes, so nothing could confirm it. */
export class NoSinksError extends CdcError {
  readonly entity: string;

  constructor(entity: string) {
    super(
      `cannot write ${entity} through: no required sinks are configured and no sink consumer group exists yet. ` +
        'Start a sink for this entity or use write mode "behind".',
      { code: ErrorCode.NoSinks, retriable: false },
    );
    this.entity = entity;
  }
}
