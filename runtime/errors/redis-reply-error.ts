import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * Redis answered a command with an error reply (`NOGROUP …`, `WRONGPASS …`). Not retriable as
 * such: the same command gets the same answer until something else changes.
 */
export class RedisReplyError extends CdcError {
  /** The error reply's text, e.g. `NOGROUP No such key … or consumer group …`. */
  readonly reply: string;

  constructor(command: string, reply: string) {
    super(`Redis refused ${command}: ${reply}`, { code: ErrorCode.RedisReplyError });
    this.reply = reply;
  }
}
