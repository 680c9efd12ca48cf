/**
 * The bridge's own instrumentation events, added to the runtime's typed event map (TypeScript
 * declaration merging) so they go through the same Instrumentation as the runner's `sink.*`
 * events: one emitter, listeners that never break the loop, nothing built when nobody listens.
 * Metrics subscribe in bridge-metrics.ts.
 */
declare module '../../../runtime/instrumentation/instrumentation.ts' {
  interface InstrumentationEvents {
    /** Records of one committed transaction landed in a topic partition. */
    'bridge.produced': {
      sink: string;
      topic: string;
      partition: number;
      /** Offset of the last record written there (the base offset plus the count, minus 1). */
      offset: string;
      messages: number;
    };
    /** A source partition's batch committed as one Kafka transaction. */
    'bridge.transaction.committed': {
      sink: string;
      entity: string;
      partition: number;
      /** Data records (the offset record not counted). */
      messages: number;
      durationMs: number;
    };
    /** A transaction failed and was aborted (or left for the coordinator to abort). */
    'bridge.transaction.aborted': {
      sink: string;
      entity: string;
      partition: number;
      error: Error;
    };
    /** The partition's producer was fenced by a later producer of the same transactional id. */
    'bridge.producer.fenced': { sink: string; entity: string; partition: number };
    /** A producer was started (InitProducerId), fencing every earlier producer of its partition. */
    'bridge.producer.started': { sink: string; entity: string; partition: number };
  }
}

export {};
