import { CdcError } from './cdc-error.ts';

/** An event names a schema id the registry does not know. */
export class SchemaNotFoundError extends CdcError {
  readonly schemaId: number;

  constructor(schemaId: number) {
    super(`schema id ${schemaId} is not in the registry`, {
      code: 'SCHEMA_NOT_FOUND',
      retriable: false,
    });
    this.schemaId = schemaId;
  }
}
