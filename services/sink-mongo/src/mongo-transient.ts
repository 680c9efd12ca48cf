import {
  MongoBulkWriteError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoWriteConcernError,
} from 'mongodb';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';

/**
 * Server error codes that go away by themselves: the network, an election, a shutdown, a time
 * limit, contention. The retryable-writes spec lists most of them
 * (https://github.com/mongodb/specifications/blob/master/source/retryable-writes/retryable-writes.md#determining-retryable-errors);
 * the rest are lock and write-conflict contention. Names from
 * https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml
 */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout
  46, // LockBusy
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed (wtimeout)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  117, // ConflictingOperationInProgress
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  202, // NetworkInterfaceExceededTimeLimit
  251, // NoSuchTransaction (the transaction was aborted under us)
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels the server or the driver put on an error that a later attempt may not hit. */
const TRANSIENT_LABELS = [
  MongoErrorLabel.RetryableWriteError,
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.UnknownTransactionCommitResult,
];

/**
 * Whether an error thrown while writing to MongoDB may go away by itself, decided by the error's
 * class, labels and codes, never by its message.
 *
 * - Our own errors carry the answer (`CdcError.retriable`): a mapping error or a unique-index
 *   violation (MongoConstraintError) is permanent.
 * - Network errors, server selection timeouts and client-side operation timeouts are transient.
 * - An error labelled RetryableWriteError, TransientTransactionError or
 *   UnknownTransactionCommitResult is transient.
 * - A bulk write error is transient when its write concern error or every one of its write errors
 *   has a transient code; a duplicate key (11000) there is a constraint violation, permanent.
 * - Any other server error is transient when its code is in TRANSIENT_CODES.
 * - Everything else (bad values, authorization, unknown errors) is permanent.
 */
export function isTransientMongoError(error: unknown): boolean {
  if (error instanceof CdcError) return error.retriable;
  if (!(error instanceof MongoError)) return false;
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoOperationTimeoutError
  ) {
    return true;
  }
  if (TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label))) return true;
  if (error instanceof MongoBulkWriteError) {
    const concern = error.result?.getWriteConcernError();
    if (concern && isTransientCode(concern.code)) return true;
    const writeErrors = [error.writeErrors].flat();
    if (writeErrors.length > 0) return writeErrors.every((w) => isTransientCode(w.code));
    return isTransientCode(error.code);
  }
  if (error instanceof MongoWriteConcernError) {
    return isTransientCode(error.result?.writeConcernError?.code ?? error.code);
  }
  return isTransientCode(error.code);
}

function isTransientCode(code: unknown): boolean {
  return typeof code === 'number' && TRANSIENT_CODES.has(code);
}
