import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Redis, ReplyError } from 'ioredis';
import { RedisUnavailableError } from '../../runtime/errors/redis-unavailable-error.ts';
import { WriteThroughTimeoutError } from '../../runtime/errors/write-through-timeout-error.ts';
import {
  commandFailure,
  isBusyGroup,
  isConnectionError,
  isNoGroup,
  isNoSuchKey,
  isNotNowReply,
  redisErrorCode,
} from '../../runtime/redis-errors.ts';

/** An error reply as ioredis rejects a command with it. */
const reply = (text: string): Error => new ReplyError(text) as Error;

/** A Node socket error, as `net` reports one. */
function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, syscall: 'connect' });
}

/** A local port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

test('redisErrorCode is the first word of an error reply, undefined for anything else', () => {
  assert.equal(redisErrorCode(reply('BUSYGROUP Consumer Group name already exists')), 'BUSYGROUP');
  assert.equal(redisErrorCode(reply('ERR no such key')), 'ERR');
  assert.equal(redisErrorCode(reply('NOSCRIPT')), 'NOSCRIPT');
  assert.equal(redisErrorCode(reply('lower case is no code')), undefined);
  assert.equal(redisErrorCode(new Error('BUSYGROUP but not a reply')), undefined);
  assert.equal(redisErrorCode(socketError('ECONNREFUSED')), undefined);
  assert.equal(redisErrorCode('BUSYGROUP'), undefined);
  assert.equal(redisErrorCode(undefined), undefined);
});

test('isBusyGroup, isNoGroup and isNoSuchKey read the reply code, not an error that only says it', () => {
  assert.ok(isBusyGroup(reply('BUSYGROUP Consumer Group name already exists')));
  assert.ok(!isBusyGroup(new Error('BUSYGROUP Consumer Group name already exists')));
  assert.ok(isNoGroup(reply("NOGROUP No such key 'k' or consumer group 'g'")));
  assert.ok(!isNoGroup(reply('BUSYGROUP Consumer Group name already exists')));
  assert.ok(isNoSuchKey(reply('ERR no such key')));
  assert.ok(!isNoSuchKey(reply('ERR syntax error')));
  assert.ok(!isNoSuchKey(new Error('ERR no such key')));
  assert.ok(!isNoSuchKey(reply("NOGROUP No such key 'k' or consumer group 'g'")));
});

test('isNotNowReply is true for replies that pass by themselves, false for refusals', () => {
  for (const text of [
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script.',
    'MISCONF Errors writing to the AOF file',
    'MASTERDOWN Link with MASTER is down',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'NOREPLICAS Not enough good replicas to write.',
  ]) {
    assert.ok(isNotNowReply(reply(text)), text);
  }
  for (const text of [
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'NOPERM this user has no permissions to run the evalsha command',
    'ERR Error running script',
  ]) {
    assert.ok(!isNotNowReply(reply(text)), text);
  }
  assert.ok(!isNotNowReply(new Error('LOADING but not a reply')));
});

test('isConnectionError reads a socket error code, never a message', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']) {
    assert.ok(isConnectionError(socketError(code)), code);
  }
  assert.ok(!isConnectionError(socketError('EACCES')));
  assert.ok(!isConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:6379')));
  assert.ok(!isConnectionError(reply('ERR ECONNREFUSED')));
  assert.ok(!isConnectionError({ code: 'ECONNREFUSED' }));
});

test('commandFailure keeps an error reply and a typed error, and makes the rest RedisUnavailableError', () => {
  const refused = reply('WRONGTYPE Operation against a key holding the wrong kind of value');
  assert.equal(commandFailure(refused, 'capture-write'), refused);
  const timeout = new WriteThroughTimeoutError('1-1', ['postgres'], 10);
  assert.equal(commandFailure(timeout, 'watermark wait'), timeout);
  for (const cause of [
    reply('LOADING Redis is loading the dataset in memory'),
    socketError('ECONNREFUSED'),
    new Error('Connection is closed.'),
  ]) {
    const failure = commandFailure(cause, 'capture-write');
    assert.ok(failure instanceof RedisUnavailableError, String(failure));
    assert.equal(failure.retriable, true);
    assert.equal(failure.cause, cause);
    assert.equal(failure.command, 'capture-write');
    assert.ok(!failure.message.includes('127.0.0.1'), 'connection details stay in the cause');
  }
});

test('what ioredis rejects a command with when Redis cannot be reached is RedisUnavailableError', async (t) => {
  const port = await closedPort();
  // Gives up after the first failed connection instead of queueing the command.
  const refused = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  refused.on('error', () => undefined);
  t.after(() => refused.disconnect());
  const noAnswer = await refused.get('k').then(
    () => assert.fail('a closed port answered'),
    (error: unknown) => error,
  );
  assert.equal(redisErrorCode(noAnswer), undefined);
  assert.ok(commandFailure(noAnswer, 'GET') instanceof RedisUnavailableError, String(noAnswer));

  // A connection closed by its owner: ioredis rejects with a plain Error.
  const closed = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  });
  closed.on('error', () => undefined);
  closed.disconnect();
  const afterClose = await closed.get('k').then(
    () => assert.fail('a closed connection answered'),
    (error: unknown) => error,
  );
  assert.ok(commandFailure(afterClose, 'GET') instanceof RedisUnavailableError, String(afterClose));
});
