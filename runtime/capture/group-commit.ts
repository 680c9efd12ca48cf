import type { CaptureWriteReply } from './capture-write-call.ts';
import type { PreparedWrite } from './prepared-write.ts';

/** Sends writes of one partition (and one trace id) in one capture-write call. */
export type SendWrites = (
  writes: readonly PreparedWrite[],
  traceId: string | undefined,
) => Promise<CaptureWriteReply[]>;

interface Waiting {
  readonly write: PreparedWrite;
  resolve(reply: CaptureWriteReply): void;
  reject(error: unknown): void;
}

interface Lane {
  readonly traceId: string | undefined;
  readonly queue: Waiting[];
  inFlight: boolean;
}

/**
 * Group commit of single writes: a write whose partition has no call in flight is sent at once
 * (no added latency when idle); writes arriving while one is in flight wait for it and then go
 * together, up to `maxWrites` in one call. Under load many concurrent writes cost one script call
 * per partition instead of one each, while each keeps its own reply: its own event id, its own
 * compare-and-set outcome and idempotency answer (capture-write.lua handles the writes of a call
 * one after another, in arrival order). A call that fails (Redis unreachable) fails every write
 * it carried, as each would have failed alone.
 */
export class GroupCommit {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly send: SendWrites,
    private readonly maxWrites: number,
  ) {}

  write(write: PreparedWrite, traceId: string | undefined): Promise<CaptureWriteReply> {
    // Writes of one call share the stream (entity and partition) and the trace id of their events.
    const id = `${write.entity}\u0000${write.partition}\u0000${traceId ?? ''}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { traceId, queue: [], inFlight: false };
      this.lanes.set(id, lane);
    }
    const promise = new Promise<CaptureWriteReply>((resolve, reject) => {
      lane.queue.push({ write, resolve, reject });
    });
    if (!lane.inFlight) this.flush(id, lane);
    return promise;
  }

  private flush(id: string, lane: Lane): void {
    const batch = lane.queue.splice(0, this.maxWrites);
    if (batch.length === 0) {
      this.lanes.delete(id);
      return;
    }
    lane.inFlight = true;
    let sent: Promise<CaptureWriteReply[]>;
    try {
      sent = this.send(
        batch.map((waiting) => waiting.write),
        lane.traceId,
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    void sent
      .then(
        (replies) => {
          batch.forEach((waiting, i) => {
            waiting.resolve(replies[i]!);
          });
        },
        (error: unknown) => {
          for (const waiting of batch) waiting.reject(error);
        },
      )
      .finally(() => {
        lane.inFlight = false;
        this.flush(id, lane);
      });
  }
}
