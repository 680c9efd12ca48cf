import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** An event names a schema id the registry does not know. */
export class SchemaNotFoundError extends CdcError {
  readonly schemaId: number;

  constructor(schemaId: number) {
    super(`schema id ${schemaId} is not in the registry`, {
      code: ErrorCode.SchemaNotFound,
      retriable: false,
    });
    this.schemaId = schemaId;
  }
}
