import { AssertionError } from 'node:assert';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CdcError } from '../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../runtime/errors/error-code.ts';
import { isProgrammingError } from '../../runtime/errors/programming-error.ts';
import { isTransientFailure } from '../../runtime/sink/runner/error-policy.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';

const bugs = [
  new TypeError("Cannot read properties of undefined (reading 'length')"),
  new RangeError('offset out of range'),
  new ReferenceError('x is not defined'),
  new SyntaxError('Unexpected token'),
  new AssertionError({ message: 'invariant' }),
];

test('programming errors are recognised, a fetch network failure is not one', () => {
  for (const bug of bugs) assert.equal(isProgrammingError(bug), true, bug.name);
  const fetchFailed = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
  });
  assert.equal(isProgrammingError(fetchFailed), false);
  assert.equal(isProgrammingError(new Error('socket hang up')), false);
});

test('programming errors are permanent in every sink, whatever the sink says of unknown errors', () => {
  const sinks = [
    new PostgresSink({ url: 'postgres://127.0.0.1:1/none' }),
    new MongoSink({ url: 'mongodb://127.0.0.1:1/none' }),
    // A sink that calls everything transient still does not get a bug retried.
    { isTransient: () => true },
  ];
  for (const sink of sinks)
    for (const bug of bugs) assert.equal(isTransientFailure(sink, bug), false, bug.name);
});

test("a runtime error's own retriable flag decides before the sink is asked", () => {
  const sink = { isTransient: () => false };
  assert.equal(
    isTransientFailure(
      sink,
      new CdcError('busy', { code: ErrorCode.Unavailable, retriable: true }),
    ),
    true,
  );
  assert.equal(
    isTransientFailure(
      { isTransient: () => true },
      new CdcError('bad', { code: ErrorCode.Unavailable }),
    ),
    false,
  );
});

test("anything else is the sink's to judge", () => {
  const err = new Error('connection terminated unexpectedly');
  assert.equal(isTransientFailure({ isTransient: () => true }, err), true);
  assert.equal(isTransientFailure({ isTransient: () => false }, err), false);
  assert.equal(new PostgresSink({ url: 'postgres://127.0.0.1:1/none' }).isTransient(err), true);
});
