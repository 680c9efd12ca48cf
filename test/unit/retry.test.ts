import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CdcError } from '../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../runtime/errors/error-code.ts';
import { type RetryInfo, retry } from '../../runtime/retry.ts';

const fast = { backoff: { initialMs: 1, maxMs: 2 } };
const transient = () => new CdcError('try again', { code: ErrorCode.Unavailable, retriable: true });

test('retry returns the first success and reports each retried failure', async () => {
  const seen: RetryInfo[] = [];
  const result = await retry(
    async (attempt) => {
      if (attempt < 3) throw transient();
      return attempt;
    },
    { ...fast, onRetry: (info) => void seen.push(info) },
  );
  assert.equal(result, 3);
  assert.deepEqual(
    seen.map((s) => s.attempt),
    [1, 2],
  );
  assert.ok(seen.every((s) => s.error instanceof CdcError && s.delayMs >= 0 && s.delayMs <= 2));
});

test('retry does not retry an error that is not retriable, by default anything unclassified', async () => {
  let calls = 0;
  await assert.rejects(
    retry(async () => {
      calls++;
      throw new TypeError('a bug');
    }, fast),
    TypeError,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retry(async () => {
      calls++;
      throw new CdcError('bad input', { code: ErrorCode.Unavailable, retriable: false });
    }, fast),
    /bad input/,
  );
  assert.equal(calls, 1);
});

test('retry throws the last error once its attempts are spent', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new Error(`failure ${calls}`);
      },
      { ...fast, attempts: 4, isRetriable: () => true },
    ),
    /failure 4/,
  );
  assert.equal(calls, 4);
});

test('retry waits the capped exponential backoff between attempts', async () => {
  const delays: number[] = [];
  await assert.rejects(
    retry(
      async () => {
        throw transient();
      },
      {
        attempts: 5,
        backoff: { initialMs: 1, maxMs: 4, factor: 2 },
        random: () => 1,
        onRetry: ({ delayMs }) => void delays.push(delayMs),
      },
    ),
  );
  assert.deepEqual(delays, [1, 2, 4, 4]);
});

test('an abort ends a retry in its wait with the reason given', async () => {
  const controller = new AbortController();
  const reason = new Error('stopped');
  const started = performance.now();
  const pending = retry(
    async () => {
      throw transient();
    },
    {
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      signal: controller.signal,
      onRetry: () => void setImmediate(() => controller.abort(reason)),
    },
  );
  await assert.rejects(pending, (err) => err === reason);
  assert.ok(performance.now() - started < 5_000, 'the wait was interrupted');
});

test('an aborted signal lets the attempt run and retries nothing after it', async () => {
  let calls = 0;
  const stopped = AbortSignal.abort(new Error('already stopped'));
  assert.equal(await retry(async () => ++calls, { signal: stopped }), 1);
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw transient();
      },
      { signal: stopped },
    ),
    /already stopped/,
  );
  assert.equal(calls, 2);
});

test('an onRetry that throws ends the retries with its error', async () => {
  await assert.rejects(
    retry(
      async () => {
        throw transient();
      },
      {
        ...fast,
        onRetry: () => {
          throw new Error('cannot go on');
        },
      },
    ),
    /cannot go on/,
  );
});
