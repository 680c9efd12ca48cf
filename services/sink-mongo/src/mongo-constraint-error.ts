import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../../runtime/errors/error-code.ts';
import type { DocumentId } from './mongo-document.ts';

/**
 * A write broke a unique index other than `_id` (E11000 on a configured unique index): another
 * document already holds the value. Retrying cannot help until that document changes, so the
 * error is permanent and the runner dead-letters the event; re-drive it once the conflict is gone.
 */
export class MongoConstraintError extends CdcError {
  readonly collection: string;
  /** Keys (`_id`s) of the documents that could not be written. */
  readonly keys: readonly DocumentId[];

  constructor(collection: string, keys: readonly DocumentId[], detail: string, cause?: unknown) {
    super(
      `unique index violated in collection ${collection} by ${keys.length === 1 ? 'key' : 'keys'} ` +
        `${keys.map((k) => (typeof k === 'string' ? JSON.stringify(k) : String(k))).join(', ')}: ${detail}`,
      { code: ErrorCode.MongoConstraintViolated, retriable: false, cause },
    );
    this.collection = collection;
    this.keys = keys;
  }
}
