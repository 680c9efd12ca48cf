import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * A schema mirrored in Kafka contradicts the registry in Redis (the same id with other content, or
 * the same version under another id), or the mirror contradicts itself. Restoring it would make
 * events decode with the wrong schema, so nothing is restored: an operator must decide which side
 * is right. Never retriable.
 */
export class SchemaMirrorConflictError extends CdcError {
  readonly schemaId: number;

  constructor(schemaId: number, message: string, cause?: unknown) {
    super(message, { code: ErrorCode.Conflict, retriable: false, cause });
    this.schemaId = schemaId;
  }
}
