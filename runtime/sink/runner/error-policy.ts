import { CdcError } from '../../errors/cdc-error.ts';
import { isProgrammingError } from '../../errors/programming-error.ts';
import type { Sink } from '../sink.ts';
import { PartitionLost } from './partition-lost.ts';

/**
 * Whether a failure of a sink's work may pass by itself (retry the batch unchanged) or is
 * permanent (find the events at fault and dead-letter them). Decided here once for every sink:
 * a runtime error says itself (`retriable`, decided where it was thrown); a programming error
 * is permanent whatever the sink would say, so a bug never loops; a lost partition is never
 * retried; anything else the sink judges from its database's error codes.
 */
export function isTransientFailure(sink: Pick<Sink, 'isTransient'>, error: unknown): boolean {
  if (error instanceof CdcError) return error.retriable;
  if (error instanceof PartitionLost) return false;
  if (isProgrammingError(error)) return false;
  return sink.isTransient(error);
}
