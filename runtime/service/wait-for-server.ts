import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../backoff.ts';
import { CdcError } from '../errors/cdc-error.ts';
import { ServiceStartError } from './service-start-error.ts';
import type { StartupRetry } from './startup-retry.ts';

/** A server a service needs before it can start, and how to tell that it answers. */
export interface ServerProbe {
  /** What it is, e.g. `Redis`. */
  readonly server: string;
  /** Where, without credentials, e.g. `redis://127.0.0.1:6379`. */
  readonly where: string;
  /** What to check when it stays unreachable, e.g. `check REDIS_URL and that Redis is up`. */
  readonly hint: string;
  /**
   * Resolves once the server answers. Rejects with a CdcError that is not retriable for what
   * waiting cannot fix (a ServiceStartError for credentials or TLS, a ConfigError); any other
   * rejection is a server not reachable yet.
   */
  check(): Promise<void>;
}

/** Where the per-attempt lines go: a pino logger fits. */
export interface StartupLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Waits until `probe` answers, with one log line per failed attempt, up to `retry.attempts`;
 * then throws ServiceStartError('unreachable') saying what, where and what to do. A refusal
 * (credentials, TLS) is thrown at once: waiting would not change it.
 */
export async function waitForServer(
  probe: ServerProbe,
  retry: StartupRetry,
  log?: StartupLog,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await probe.check();
      return;
    } catch (error) {
      // What the project itself knows to be final (a refusal, a configuration) is not waited on.
      if (error instanceof CdcError && !error.retriable) throw error;
      const reason = reasonOf(error);
      if (attempt >= retry.attempts) {
        throw new ServiceStartError(
          'unreachable',
          `${probe.server} at ${probe.where} is still unreachable after ${attempt} ` +
            `attempt${attempt === 1 ? '' : 's'} (${reason}): ${probe.hint}`,
          error,
        );
      }
      const delayMs = backoffDelay(attempt, { initialMs: 250, maxMs: retry.maxDelayMs });
      log?.warn(
        { server: probe.server, where: probe.where, attempt, attempts: retry.attempts, delayMs },
        `${probe.server} at ${probe.where} is not reachable yet (${reason}); attempt ` +
          `${attempt} of ${retry.attempts}, next in ${delayMs} ms`,
      );
      await sleep(delayMs);
    }
  }
}

/** The most telling message of an error: its own, or its cause's when it has none. */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) {
    if (error.message) return error.message;
    if (error.cause !== undefined) return reasonOf(error.cause);
    return error.name;
  }
  return String(error);
}
