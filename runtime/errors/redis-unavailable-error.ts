import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * Redis could not serve a command now: no answer came (the connection could not be opened, was
 * lost or closed, the command timed out, ioredis gave up retrying), or Redis answered that it
 * cannot serve it yet (`LOADING`, `BUSY`, …). Retriable: the same command may succeed later. A
 * write that failed this way may still have been applied, so only an idempotent one is repeated
 * blindly. The message names the command only; the cause holds the connection's details.
 */
export class RedisUnavailableError extends CdcError {
  /** The command that failed, e.g. `capture-write`. */
  readonly command: string;

  constructor(command: string, cause: unknown) {
    super(`the log is unreachable: Redis could not serve ${command}; retry later`, {
      code: ErrorCode.Unavailable,
      retriable: true,
      cause,
    });
    this.command = command;
  }
}
