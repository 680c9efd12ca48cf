import { CdcError } from './cdc-error.ts';

/**
 * Redis answered a command with an error reply (`NOGROUP …`, `WRONGPASS …`). Not retriable as
 * such: the same command gets the same answer until something else changes.
 */
export class RedisReplyError extends CdcError {
  /** The error reply's text, e.g. `NOGROUP No such key … or consumer group …`. */
  readonly reply: string;

  constructor(command: string, reply: string) {
    super(`Redis refused ${command}: ${reply}`, { code: 'REDIS_REPLY_ERROR' });
    this.reply = reply;
  }
}
