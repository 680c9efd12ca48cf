import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ErrorCode } from '../../../runtime/errors/error-code.ts';

/**
 * The producer of a partition was fenced (another producer initialised its transactional id
 * later) and this instance does not hold the partition's lease: another instance owns it. Its
 * batch is left alone, never produced by a new producer that would fence the owner back.
 * Retriable: the runner drops the batch once its heartbeat sees the lease gone, and if the lease
 * turns out to be this instance's after all (a former owner fenced it), the bridge starts a new
 * producer on the next attempt.
 */
export class ProducerFencedError extends CdcError {
  constructor(
    readonly entity: string,
    readonly partition: number,
    cause?: unknown,
  ) {
    super(
      `the Kafka producer of ${entity}/${partition} was fenced and this instance does not hold the partition's lease: another instance owns it`,
      { code: ErrorCode.KafkaProducerFenced, retriable: true, cause },
    );
  }
}
