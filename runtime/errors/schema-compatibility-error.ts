import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** A new schema version cannot read data written with the latest registered version. */
export class SchemaCompatibilityError extends CdcError {
  readonly entity: string;

  constructor(entity: string, reason: string, cause?: unknown) {
    super(
      `schema for ${entity} is not backward compatible with its latest version: ${reason}. ` +
        'Add new fields with a default (or as an optional union with null) instead of changing or removing them.',
      { code: ErrorCode.SchemaIncompatible, retriable: false, cause },
    );
    this.entity = entity;
  }
}
