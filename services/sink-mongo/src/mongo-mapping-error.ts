import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../../runtime/errors/error-code.ts';

/**
 * An event cannot be turned into a MongoDB document (a value its schema type cannot hold, a key
 * that is not a number for a numeric key field, an entity without a target). Writing it again
 * gives the same result, so it is permanent: the runner dead-letters the event.
 */
export class MongoMappingError extends CdcError {
  readonly entity: string;
  readonly key: string;
  /** Dotted path of the offending field, `''` for the event itself. */
  readonly path: string;

  constructor(entity: string, key: string, path: string, problem: string, cause?: unknown) {
    super(`cannot store ${entity} "${key}" in MongoDB: ${path ? `${path}: ` : ''}${problem}`, {
      code: ErrorCode.MongoMappingFailed,
      retriable: false,
      cause,
    });
    this.entity = entity;
    this.key = key;
    this.path = path;
  }
}
