import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** One problem found in a record: where it is (`path`) and what is wrong with it. */
export interface ValidationIssue {
  /** Dotted path of the offending field, `''` for the record itself. */
  path: string;
  /** What was wrong and what was expected. */
  message: string;
}

/** A record does not match its entity's schema. Nothing was written. */
export class ValidationError extends CdcError {
  readonly entity: string;
  readonly issues: readonly ValidationIssue[];

  constructor(entity: string, issues: readonly ValidationIssue[]) {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`invalid ${entity}: ${detail}`, { code: ErrorCode.ValidationFailed, retriable: false });
    this.entity = entity;
    this.issues = issues;
  }
}
