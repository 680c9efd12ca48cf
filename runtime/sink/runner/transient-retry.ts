import type { Logger } from 'pino';
import type { BackoffOptions } from '../../backoff.ts';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import { retry } from '../../retry.ts';
import type { Sink } from '../sink.ts';
import { isTransientFailure } from './error-policy.ts';

/**
 * The runner's use of the one retrier: a sink's work (apply, ensure targets, rewind an offset)
 * retried while its failure is transient, without limit, until stop() aborts (then `Abandoned`,
 * the signal's reason, is thrown). Each retry is logged and counted.
 */
export class TransientRetry {
  constructor(
    private readonly sink: Sink,
    private readonly backoff: BackoffOptions,
    private readonly signal: AbortSignal,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {}

  /** Whether an error of the sink's work may pass by itself (see error-policy.ts). */
  isTransient(error: unknown): boolean {
    return isTransientFailure(this.sink, error);
  }

  run<T>(action: () => Promise<T>): Promise<T> {
    return retry(action, {
      backoff: this.backoff,
      signal: this.signal,
      isRetriable: (error) => this.isTransient(error),
      onRetry: ({ attempt, delayMs, error }) => {
        this.instrumentation.emit('sink.batch.retried', {
          sink: this.sink.name,
          attempt,
          delayMs,
          error: error as Error,
        });
        this.logger?.warn({ err: error, attempt, delayMs }, 'transient failure, retrying');
      },
    });
  }
}
