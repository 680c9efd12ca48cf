import { ConfigError } from '../errors/config-error.ts';
import type { Keys } from '../keys.ts';
import { partitionId } from '../partition-id.ts';
import type { RedisClient } from '../redis-client.ts';
import { judgePartition, type LagSample, PARTITION_STATES } from './partition-state.ts';
import { type PipelineReading, readPipeline } from './pipeline-reading.ts';
import type { InstanceView, PartitionView, PipelineView, SinkView } from './pipeline-view.ts';

/** Options of a PipelineMonitor. */
export interface PipelineMonitorOptions {
  /**
   * A connection to the Redis of the log, one server or a Redis Cluster (the reads are those of
   * `cdc lag`, one key each).
   */
  redis: RedisClient;
  keys: Keys;
  /** Time between two samples, ms. Default 5000. */
  sampleMs?: number;
  /** Window the partition states are judged over, ms; at least two samples. Default 60000. */
  windowMs?: number;
  /** How long the lag chart reaches back, ms. Default 900000 (15 minutes). */
  historyMs?: number;
}

/** Receives every new view. */
export type ViewListener = (view: PipelineView) => void;

/**
 * Samples every sink's position on every partition every few seconds and keeps what the lag page
 * needs in memory: a window of samples per partition to judge its state (partition-state.ts),
 * and each sink's lag over the chart's history. Nothing is written to Redis: a restart starts
 * with an empty chart, and any number of monitors may watch the same log.
 */
export class PipelineMonitor {
  readonly sampleMs: number;
  readonly windowMs: number;
  readonly historyMs: number;
  private readonly samples = new Map<string, LagSample[]>();
  private readonly charts = new Map<string, SinkView['chart']>();
  private readonly heartbeats = new Map<string, { expiresAt: number; seenAt: number }>();
  private readonly listeners = new Set<ViewListener>();
  private view: PipelineView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: PipelineMonitorOptions) {
    this.sampleMs = options.sampleMs ?? 5000;
    this.windowMs = options.windowMs ?? 60_000;
    this.historyMs = options.historyMs ?? 900_000;
    if (!Number.isInteger(this.sampleMs) || this.sampleMs < 100) {
      throw new ConfigError(
        `monitor sample interval must be at least 100 ms, got ${this.sampleMs}`,
      );
    }
    if (!Number.isInteger(this.windowMs) || this.windowMs < 2 * this.sampleMs) {
      throw new ConfigError(
        `monitor window must hold at least two samples (${2 * this.sampleMs} ms), got ${this.windowMs}`,
      );
    }
    if (!Number.isInteger(this.historyMs) || this.historyMs < this.sampleMs) {
      throw new ConfigError(`monitor history must be at least one sample, got ${this.historyMs}`);
    }
  }

  /** Starts sampling (the first sample at once). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops sampling and waits for a sample under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** The latest view, once one sample was taken. */
  latest(): PipelineView | undefined {
    return this.view;
  }

  /** Calls `listener` with every new view; returns what unsubscribes it. */
  subscribe(listener: ViewListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes one sample now and returns the view it gives (also what listeners receive). */
  async sample(now: number = Date.now()): Promise<PipelineView> {
    let view: PipelineView;
    try {
      view = this.record(await readPipeline(this.options.redis, this.options.keys, now));
    } catch (err) {
      // Keep the last figures, say why they are old: an outage must not blank the page.
      view = {
        ...(this.view ?? this.empty(now)),
        error: `cannot read the pipeline: ${(err as Error).message}`,
      };
    }
    this.view = view;
    for (const listener of this.listeners) {
      try {
        listener(view);
      } catch {
        // A listener's failure (a closed connection, say) never stops the sampling.
      }
    }
    return view;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.sample().then(() => {
        if (!this.stopped) this.schedule(this.sampleMs);
      });
    }, delayMs);
    // A monitor alone must not keep a process alive.
    this.timer.unref();
  }

  private empty(now: number): PipelineView {
    return {
      at: now,
      sampleMs: this.sampleMs,
      windowMs: this.windowMs,
      historyMs: this.historyMs,
      error: null,
      sinks: [],
      partitions: [],
      instances: [],
    };
  }

  private record(reading: PipelineReading): PipelineView {
    const now = reading.at;
    const live = new Set(
      reading.instances.filter((i) => i.expiresAt > now).map((i) => `${i.sink}\0${i.instance}`),
    );
    const partitions: PartitionView[] = [];
    const seen = new Set<string>();
    for (const p of reading.partitions) {
      const id = `${p.sink}\0${partitionId(p.entity, p.partition)}`;
      seen.add(id);
      const samples = this.samples.get(id) ?? [];
      samples.push({
        at: now,
        behind: p.lag.behind,
        oldestUnappliedMs: p.lag.oldestUnappliedMs,
        applied: p.lag.applied,
        added: p.added,
      });
      // The judge needs the window and one sample before it.
      while (samples.length > 2 && samples[1]!.at < now - this.windowMs) samples.shift();
      this.samples.set(id, samples);
      const held = p.owner !== undefined && live.has(`${p.sink}\0${p.owner}`);
      const judged = judgePartition(samples, held, this.windowMs);
      partitions.push({
        sink: p.sink,
        entity: p.entity,
        partition: p.partition,
        applied: p.lag.applied,
        behind: p.lag.behind ?? null,
        secondsBehind: p.lag.oldestUnappliedMs / 1000,
        pending: p.lag.pending,
        state: judged.state,
        applyRate: judged.applyRate ?? null,
        writeRate: judged.writeRate ?? null,
        catchUpSeconds: judged.catchUpSeconds ?? null,
        owner: p.owner ?? null,
        node: p.node ?? null,
        quarantined: p.quarantined,
        quarantinedCount: p.quarantinedCount,
        trimmedUnread: p.trimmedUnread,
      });
    }
    for (const id of this.samples.keys()) if (!seen.has(id)) this.samples.delete(id);
    return {
      ...this.empty(now),
      sinks: this.sinkViews(reading, partitions),
      partitions,
      instances: this.instanceViews(reading, partitions),
    };
  }

  private sinkViews(reading: PipelineReading, partitions: PartitionView[]): SinkView[] {
    const now = reading.at;
    const names = [...new Set(partitions.map((p) => p.sink))].sort();
    for (const sink of this.charts.keys()) if (!names.includes(sink)) this.charts.delete(sink);
    return names.map((sink) => {
      const own = partitions.filter((p) => p.sink === sink);
      const states = Object.fromEntries(PARTITION_STATES.map((s) => [s, 0])) as SinkView['states'];
      for (const p of own) states[p.state]++;
      const chart = this.charts.get(sink) ?? [];
      chart.push([
        now,
        own.reduce((sum, p) => sum + (p.behind ?? 0), 0),
        Math.max(0, ...own.map((p) => p.secondsBehind)),
      ]);
      while (chart.length > 0 && chart[0]![0] < now - this.historyMs) chart.shift();
      this.charts.set(sink, chart);
      return { sink, deadLetters: reading.deadLetters.get(sink) ?? 0, states, chart: [...chart] };
    });
  }

  private instanceViews(reading: PipelineReading, partitions: PartitionView[]): InstanceView[] {
    const now = reading.at;
    const seen = new Set<string>();
    const views = reading.instances.map((i): InstanceView => {
      const id = `${i.sink}\0${i.instance}`;
      seen.add(id);
      const known = this.heartbeats.get(id);
      // A heartbeat moves the expiry forward: the first sample that sees a new one dates it.
      const seenAt = known && known.expiresAt === i.expiresAt ? known.seenAt : now;
      this.heartbeats.set(id, { expiresAt: i.expiresAt, seenAt });
      return {
        sink: i.sink,
        instance: i.instance,
        live: i.expiresAt > now,
        expiresAt: i.expiresAt,
        lastHeartbeatAt: seenAt,
        partitions: partitions
          .filter((p) => p.sink === i.sink && p.owner === i.instance)
          .map((p) => partitionId(p.entity, p.partition)),
      };
    });
    for (const id of this.heartbeats.keys()) if (!seen.has(id)) this.heartbeats.delete(id);
    return views;
  }
}
