import { EventEmitter } from 'node:events';

/**
 * Namespaced, typed runtime events. The hot path emits; metrics and logs subscribe. Emitting
 * costs nothing when nobody listens, and a listener that throws never breaks the emitter's loop.
 */
export interface InstrumentationEvents {
  'capture.written': {
    entity: string;
    partition: number;
    op: 'upsert' | 'delete';
    durationMs: number;
    duplicate: boolean;
  };
  'capture.rejected': { entity: string; code: string };
  /** One capture-write call: how many writes it carried (group commit, batches). */
  'capture.called': { entity: string; partition: number; writes: number };
  'capture.through.waited': { entity: string; durationMs: number; timedOut: boolean };
  'sink.batch.applied': {
    sink: string;
    entity: string;
    partition: number;
    events: number;
    durationMs: number;
    endToEndMs: number[];
  };
  'sink.batch.retried': { sink: string; attempt: number; delayMs: number; error: Error };
  'sink.event.dead-lettered': {
    sink: string;
    entity: string;
    partition: number;
    key: string;
    id: string;
    error: Error;
  };
  'sink.event.held': { sink: string; entity: string; partition: number; key: string; id: string };
  'sink.partition.acquired': { sink: string; entity: string; partition: number };
  'sink.partition.released': { sink: string; entity: string; partition: number };
  /** A replay started: the partition is consumed again after `from` (`entries` to read again). */
  'sink.partition.replayed': {
    sink: string;
    entity: string;
    partition: number;
    from: string;
    entries: number;
  };
  'sink.entries.reclaimed': { sink: string; entity: string; partition: number; count: number };
  'sink.lag': {
    sink: string;
    entity: string;
    partition: number;
    /** Undefined when Redis cannot tell (see runtime/lag.ts). */
    entries: number | undefined;
    oldestAgeMs: number;
    /** Where the partition is read from (a Redis node's `host:port`), when the source knows. */
    node?: string | undefined;
  };
  /** A retention pass trimmed a partition stream (by the instance holding its retention lease). */
  'retention.trimmed': { sink: string; entity: string; partition: number; entries: number };
  /**
   * Log kept only because `group` still needs it, as of the last pass (0 once it caught up);
   * `overLimit` past the policy's maxHoldBack.
   */
  'retention.held-back': {
    sink: string;
    entity: string;
    partition: number;
    group: string;
    entries: number;
    ageMs: number;
    overLimit: boolean;
  };
  /** A pass trimmed past `group` (onHoldBack "trim"): `entries` it had not read went. */
  'retention.skipped': {
    sink: string;
    entity: string;
    partition: number;
    group: string;
    from: string;
    to: string;
    entries: number;
  };
  'listener.failed': { event: string; error: Error };
}

export type InstrumentationEvent = keyof InstrumentationEvents;

export class Instrumentation {
  private readonly emitter = new EventEmitter();

  on<E extends InstrumentationEvent>(
    event: E,
    listener: (payload: InstrumentationEvents[E]) => void,
  ): () => void {
    const wrapped = (payload: InstrumentationEvents[E]): void => {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'listener.failed')
          this.emit('listener.failed', { event, error: error as Error });
      }
    };
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  /** True when someone listens: lets callers skip building a payload nobody reads. */
  has(event: InstrumentationEvent): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  emit<E extends InstrumentationEvent>(event: E, payload: InstrumentationEvents[E]): void {
    if (this.emitter.listenerCount(event) > 0) this.emitter.emit(event, payload);
  }
}
