import type { PartitionState } from './partition-state.ts';
import type { QuarantinedKey } from './pipeline-reading.ts';

/**
 * What the lag page, its server-sent events and the capture service's monitor metrics show: plain
 * JSON (null where a value is unknown), computed by PipelineMonitor.
 */
export interface PipelineView {
  /** When the reads were made, ms. */
  at: number;
  /** How the monitor samples: every `sampleMs`, states judged over `windowMs`, chart `historyMs`. */
  sampleMs: number;
  windowMs: number;
  historyMs: number;
  /** Why the last sample failed (Redis unreachable, say); the figures are then the previous ones. */
  error: string | null;
  sinks: SinkView[];
  partitions: PartitionView[];
  instances: InstanceView[];
}

export interface SinkView {
  sink: string;
  /** Entries in its dead-letter stream. */
  deadLetters: number;
  /** Partitions per state. */
  states: Record<PartitionState, number>;
  /** Lag over the last `historyMs`, oldest first: [time ms, entries behind (sum), seconds behind (max)]. */
  chart: Array<[at: number, behind: number, seconds: number]>;
}

export interface PartitionView {
  sink: string;
  entity: string;
  partition: number;
  /** The sink's applied watermark. */
  applied: string;
  /** Entries not applied; null when Redis cannot tell (never shown as 0). */
  behind: number | null;
  /** Age of the oldest unapplied entry, seconds. */
  secondsBehind: number;
  pending: number;
  state: PartitionState;
  /** Entries applied, and written, per second over the window. */
  applyRate: number | null;
  writeRate: number | null;
  /** Seconds to catch up at those rates; null when the sink does not gain on the writers. */
  catchUpSeconds: number | null;
  /** The instance holding the partition's lease. */
  owner: string | null;
  /**
   * The Redis node serving the partition, `host:port`: on a Redis Cluster the master of its
   * slot, on one server that server; null while a cluster's slot map names none (a failover).
   */
  node: string | null;
  /** Quarantined keys, oldest failure first, the first QUARANTINE_SHOWN of them. */
  quarantined: QuarantinedKey[];
  /** Quarantined keys in all. */
  quarantinedCount: number;
  /** Retention removed entries this sink had not read yet. */
  trimmedUnread: boolean;
}

export interface InstanceView {
  sink: string;
  instance: string;
  /** Its heartbeat has not run out. */
  live: boolean;
  /** When its heartbeat runs out, ms. */
  expiresAt: number;
  /** When the monitor first saw its latest heartbeat, ms (within one sample of the truth). */
  lastHeartbeatAt: number;
  /** The partitions whose lease it holds, as `<entity>/<partition>`. */
  partitions: string[];
}
