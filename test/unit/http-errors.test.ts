import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyError } from 'ioredis';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { ConflictError } from '../../runtime/errors/conflict-error.ts';
import { EnvelopeError } from '../../runtime/errors/envelope-error.ts';
import { ErrorCode } from '../../runtime/errors/error-code.ts';
import { NoSinksError } from '../../runtime/errors/no-sinks-error.ts';
import { NotFoundError } from '../../runtime/errors/not-found-error.ts';
import { PayloadError } from '../../runtime/errors/payload-error.ts';
import { RedisReadError } from '../../runtime/errors/redis-read-error.ts';
import { RedisReplyError } from '../../runtime/errors/redis-reply-error.ts';
import { RedisUnavailableError } from '../../runtime/errors/redis-unavailable-error.ts';
import { SchemaCompatibilityError } from '../../runtime/errors/schema-compatibility-error.ts';
import { SchemaNotFoundError } from '../../runtime/errors/schema-not-found-error.ts';
import { UnknownEntityError } from '../../runtime/errors/unknown-entity-error.ts';
import { ValidationError } from '../../runtime/errors/validation-error.ts';
import { WriteThroughFailedError } from '../../runtime/errors/write-through-failed-error.ts';
import { WriteThroughTimeoutError } from '../../runtime/errors/write-through-timeout-error.ts';
import { HTTP_STATUS, toHttpError } from '../../services/capture/src/http-errors.ts';

test('error codes keep the values the HTTP API answers with', () => {
  // Published values never change; new codes may be added.
  const published: Record<string, string> = {
    ConfigInvalid: 'CONFIG_INVALID',
    Conflict: 'CONFLICT',
    EnvelopeInvalid: 'ENVELOPE_INVALID',
    MongoConstraintViolated: 'MONGO_CONSTRAINT_VIOLATED',
    MongoMappingFailed: 'MONGO_MAPPING_FAILED',
    NoSinks: 'NO_SINKS',
    NotFound: 'NOT_FOUND',
    PayloadUndecodable: 'PAYLOAD_UNDECODABLE',
    RedisReadFailed: 'REDIS_READ_FAILED',
    RedisReplyError: 'REDIS_REPLY_ERROR',
    SchemaIncompatible: 'SCHEMA_INCOMPATIBLE',
    SchemaNotFound: 'SCHEMA_NOT_FOUND',
    Unavailable: 'UNAVAILABLE',
    UnknownEntity: 'UNKNOWN_ENTITY',
    ValidationFailed: 'VALIDATION_FAILED',
    WriteThroughFailed: 'WRITE_THROUGH_FAILED',
    WriteThroughTimeout: 'WRITE_THROUGH_TIMEOUT',
  };
  for (const [member, value] of Object.entries(published)) {
    assert.equal(ErrorCode[member as keyof typeof ErrorCode], value, member);
  }
  assert.equal(new Set(Object.values(ErrorCode)).size, Object.values(ErrorCode).length, 'unique');
});

test('every error code has an HTTP status, and only those', () => {
  assert.deepEqual(Object.keys(HTTP_STATUS).sort(), Object.values(ErrorCode).sort());
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
  }
});

test('each runtime error answers its status with its code as the error field', () => {
  const cases = [
    [new ValidationError('todo', [{ path: 'done', message: 'expected a boolean' }]), 400],
    [new NotFoundError('todo', 'a1'), 404],
    [new UnknownEntityError('nothing'), 404],
    [new ConflictError('todo "a1" changed while it was being written'), 409],
    [new NoSinksError('todo'), 409],
    [new SchemaCompatibilityError('todo', 'field done changed type'), 409],
    [new WriteThroughFailedError('1-1', 'postgres', 'constraint violated'), 502],
    [new RedisReadError('the Redis read connection failed'), 503],
    [new RedisUnavailableError('capture-write', new Error('Connection is closed.')), 503],
    [new WriteThroughTimeoutError('1-1', ['postgres'], 100), 504],
    [new ConfigError('capture needs at least one entity'), 500],
    [new EnvelopeError('no op field'), 500],
    [new PayloadError('truncated'), 500],
    [new RedisReplyError('XREADGROUP', 'NOGROUP no such group'), 500],
    [new SchemaNotFoundError(7), 500],
  ] as const;
  for (const [error, status] of cases) {
    const answer = toHttpError(error);
    assert.equal(answer.status, status, error.name);
    assert.equal(answer.body.error, error.code, error.name);
    assert.equal(answer.body.message, error.message, error.name);
    // What passes by itself is what a client may retry as it is.
    if (status === 503 || status === 504) assert.ok(error.retriable, error.name);
  }
});

test('a validation error lists its issues; write-through errors name their event', () => {
  const issues = [{ path: 'done', message: 'expected a boolean' }];
  assert.deepEqual(toHttpError(new ValidationError('todo', issues)).body.issues, issues);
  assert.equal(toHttpError(new WriteThroughTimeoutError('5-1', ['pg'], 10)).body.eventId, '5-1');
  assert.equal(toHttpError(new WriteThroughFailedError('6-1', 'pg', 'no')).body.eventId, '6-1');
});

test("the HTTP layer's own client errors keep their status and code", () => {
  const tooLarge = Object.assign(new Error('Request body is too large'), {
    statusCode: 413,
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
  });
  assert.deepEqual(toHttpError(tooLarge), {
    status: 413,
    body: { error: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' },
  });
});

test('a Redis that cannot serve now is 503 UNAVAILABLE, decided by type, not by message', () => {
  const unavailable = {
    status: 503,
    body: { error: 'UNAVAILABLE', message: 'the log is unreachable; retry later' },
  };
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
    code: 'ECONNREFUSED',
  });
  assert.deepEqual(toHttpError(refused), unavailable);
  assert.deepEqual(
    toHttpError(new ReplyError('LOADING Redis is loading the dataset')),
    unavailable,
  );
  const internal = { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
  // Redis refused the command itself: retrying the same cannot help.
  assert.deepEqual(toHttpError(new ReplyError('NOPERM no permissions to run evalsha')), internal);
  // Messages are not read: an error that only says "Redis" or "Connection" is not unavailability.
  assert.deepEqual(toHttpError(new Error('Redis Connection ECONNREFUSED ETIMEDOUT')), internal);
});

test('an unknown error is 500 without its message', () => {
  assert.deepEqual(toHttpError(new TypeError('secret internals')), {
    status: 500,
    body: { error: 'INTERNAL', message: 'internal error' },
  });
  assert.equal(toHttpError(null).status, 500);
  assert.equal(toHttpError('a string').status, 500);
});
