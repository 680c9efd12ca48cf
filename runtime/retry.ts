import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { CdcError } from './errors/cdc-error.ts';

/** What a retry is told about each failed attempt it is about to retry. */
export interface RetryInfo {
  /** The attempt that failed, 1-based. */
  attempt: number;
  /** How long the retrier waits before the next attempt, ms. */
  delayMs: number;
  error: unknown;
}

/** How `retry` retries. Every field has a default. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default: unbounded. */
  attempts?: number;
  /** Delays between attempts (capped exponential, jittered). Default: see `BackoffOptions`. */
  backoff?: BackoffOptions;
  /**
   * Whether an error may pass by itself. Default: a `CdcError`'s own `retriable` flag, and no
   * for anything else (an error nobody classified is not retried blindly).
   */
  isRetriable?: (error: unknown) => boolean;
  /**
   * Ends the retries: checked after every failed attempt and interrupting the wait. The retrier
   * then throws the signal's reason. An attempt already running is not interrupted, and the
   * first always runs (work begun before a stop may still finish). Default: none.
   */
  signal?: AbortSignal;
  /**
   * Called before each wait, for logs and metrics (and, awaited, for work that must happen
   * between two attempts). An error it throws ends the retries with that error.
   */
  onRetry?: (info: RetryInfo) => void | Promise<void>;
  /** Random source of the jitter, for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Runs `action` until it succeeds, fails with an error that is not retriable, runs out of
 * attempts (the last error is thrown) or is aborted (the signal's reason is thrown). The one
 * retrier of the project: callers decide what is retriable, never how to wait.
 */
export async function retry<T>(
  action: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  const isRetriable = options.isRetriable ?? isRetriableCdcError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error;
      options.signal?.throwIfAborted();
      const delayMs = backoffDelay(attempt, options.backoff, options.random);
      await options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, undefined, { signal: options.signal }).catch((err: unknown) => {
        // An abort interrupts the wait: throw the reason given, not the timer's AbortError.
        if (options.signal?.aborted) throw options.signal.reason;
        throw err;
      });
    }
  }
}

function isRetriableCdcError(error: unknown): boolean {
  return error instanceof CdcError && error.retriable;
}
