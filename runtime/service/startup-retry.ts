import { type Env, envInteger } from '../config/env.ts';

/**
 * How long a service waits at start for a server that is not reachable yet: containers started
 * in any order (compose, Kubernetes) bring Redis or the database up after the service. Bounded,
 * so that a wrong address still ends the service with a clear line instead of waiting forever.
 */
export interface StartupRetry {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The longest wait between two attempts, ms (waits double from 250 ms up to it). */
  readonly maxDelayMs: number;
}

/**
 * From STARTUP_ATTEMPTS (default 30) and STARTUP_RETRY_MAX_MS (default 5000): with the defaults
 * a service waits about two minutes for its servers.
 */
export function startupRetryFromEnv(env: Env): StartupRetry {
  return {
    attempts: envInteger(env, 'STARTUP_ATTEMPTS', 30, 1),
    maxDelayMs: envInteger(env, 'STARTUP_RETRY_MAX_MS', 5000, 10),
  };
}
