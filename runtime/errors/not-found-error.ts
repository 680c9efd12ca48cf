import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** The entity key has no cached value (never written, deleted, or evicted from the cache). */
export class NotFoundError extends CdcError {
  readonly entity: string;
  readonly key: string;

  constructor(entity: string, key: string) {
    super(`${entity} "${key}" not found`, { code: ErrorCode.NotFound, retriable: false });
    this.entity = entity;
    this.key = key;
  }
}
