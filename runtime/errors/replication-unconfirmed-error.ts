import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/**
 * A write of an entity that waits for replicas (`waitForReplicas`) reached the master, but fewer
 * replicas than asked confirmed it in time (Redis WAIT). It is in the cache and the log now, and
 * lost only if the master fails before replicating it. Retriable: repeating it with the same
 * idempotency key is safe and waits again.
 */
export class ReplicationUnconfirmedError extends CdcError {
  readonly entity: string;
  /** Replicas that confirmed the write. */
  readonly confirmed: number;
  readonly wanted: number;

  constructor(entity: string, confirmed: number, wanted: number, timeoutMs: number) {
    super(
      `${entity}: the write reached the Redis master but ${confirmed} of the ${wanted} replica(s) ` +
        `asked for confirmed it within ${timeoutMs} ms; it is lost if that master fails before ` +
        'replicating it: retry with the same idempotency key',
      { code: ErrorCode.ReplicationUnconfirmed, retriable: true },
    );
    this.entity = entity;
    this.confirmed = confirmed;
    this.wanted = wanted;
  }
}
