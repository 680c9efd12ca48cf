import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BulkWriteResult,
  MongoBulkWriteError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  type TopologyDescription,
  type WriteError,
} from 'mongodb';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { ConflictError } from '../../runtime/errors/conflict-error.ts';
import { MongoConstraintError } from '../../services/sink-mongo/src/mongo-constraint-error.ts';
import { MongoMappingError } from '../../services/sink-mongo/src/mongo-mapping-error.ts';
import { isTransientMongoError } from '../../services/sink-mongo/src/mongo-transient.ts';

/**
 * A bulk write error as the driver throws it. Its parts (WriteError, BulkWriteResult) are
 * exported as types only; the stand-ins carry what the classifier reads: codes.
 */
function bulkError(codes: number[], writeConcernCode?: number): MongoBulkWriteError {
  const writeErrors = codes.map(
    (code, index) => ({ code, index, errmsg: `code ${code}` }) as unknown as WriteError,
  );
  const concern = writeConcernCode === undefined ? undefined : { code: writeConcernCode };
  const result = { getWriteConcernError: () => concern } as unknown as BulkWriteResult;
  return new MongoBulkWriteError(
    { message: 'bulk write failed', code: codes[0] ?? 0, writeErrors },
    result,
  );
}

function serverError(code: number, labels: string[] = []): MongoServerError {
  return new MongoServerError({ message: `code ${code}`, code, errorLabels: labels });
}

test('network errors and server selection timeouts are transient', () => {
  assert.equal(isTransientMongoError(new MongoNetworkError('connection reset')), true);
  assert.equal(isTransientMongoError(new MongoNetworkTimeoutError('timed out')), true);
  assert.equal(
    isTransientMongoError(
      new MongoServerSelectionError('no primary', {
        type: 'ReplicaSetNoPrimary',
      } as unknown as TopologyDescription),
    ),
    true,
  );
});

test('elections, shutdowns, time limits and contention are transient by code', () => {
  for (const code of [6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]) {
    assert.equal(isTransientMongoError(serverError(code)), true, `code ${code}`);
  }
});

test('retryable and transient-transaction labels make any code transient', () => {
  assert.equal(isTransientMongoError(serverError(2, [MongoErrorLabel.RetryableWriteError])), true);
  assert.equal(
    isTransientMongoError(serverError(2, [MongoErrorLabel.TransientTransactionError])),
    true,
  );
  assert.equal(
    isTransientMongoError(serverError(2, [MongoErrorLabel.UnknownTransactionCommitResult])),
    true,
  );
});

test('bad values, authorization and unknown server errors are permanent', () => {
  for (const code of [2, 13, 14, 18, 52, 121]) {
    assert.equal(isTransientMongoError(serverError(code)), false, `code ${code}`);
  }
});

test('a duplicate key is permanent, in a bulk write or alone', () => {
  assert.equal(isTransientMongoError(serverError(11000)), false);
  assert.equal(isTransientMongoError(bulkError([11000])), false);
});

test('a bulk write error is transient only when every write error is', () => {
  assert.equal(isTransientMongoError(bulkError([91, 189])), true);
  assert.equal(isTransientMongoError(bulkError([91, 11000])), false);
});

test('a write concern timeout is transient', () => {
  assert.equal(isTransientMongoError(bulkError([], 64)), true);
  assert.equal(
    isTransientMongoError(
      new MongoWriteConcernError({ ok: 1, writeConcernError: { code: 64, errmsg: 'wtimeout' } }),
    ),
    true,
  );
  assert.equal(
    isTransientMongoError(
      new MongoWriteConcernError({
        ok: 1,
        writeConcernError: { code: 100, errmsg: 'unsatisfiable' },
      }),
    ),
    false,
  );
});

test("the sink's own errors carry their answer", () => {
  assert.equal(
    isTransientMongoError(new MongoMappingError('todo', 'a', 'created_at', 'bad')),
    false,
  );
  assert.equal(isTransientMongoError(new MongoConstraintError('todo', ['a'], 'dup')), false);
  assert.equal(isTransientMongoError(new ConfigError('bad')), false);
  assert.equal(isTransientMongoError(new ConflictError('busy')), true);
});

test('a closed client and errors from outside the driver are permanent', () => {
  assert.equal(isTransientMongoError(new MongoTopologyClosedError()), false);
  assert.equal(isTransientMongoError(new Error('ECONNRESET')), false);
  assert.equal(isTransientMongoError('timeout'), false);
  assert.equal(isTransientMongoError(undefined), false);
});
