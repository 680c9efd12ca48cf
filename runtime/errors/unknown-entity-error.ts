import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** The entity is not configured for capture. */
export class UnknownEntityError extends CdcError {
  readonly entity: string;

  constructor(entity: string) {
    super(`unknown entity "${entity}": it has no schema in the registry or no capture config`, {
      code: ErrorCode.UnknownEntity,
      retriable: false,
    });
    this.entity = entity;
  }
}
