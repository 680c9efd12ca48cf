import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildSink } from '../support/child-sink.ts';
import type { Backlog } from './backlog.ts';
import { type BenchRun, ENTITY } from './bench-run.ts';

const SERVICE_MAIN = 'services/bridge-kafka/src/main.ts';
/** Longest a drain may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 300_000;
const POLL_MS = 10;

/**
 * Starts the bridge service as `name` (its own consumer group, offsets and producers), from
 * `main` (default: this revision's).
 */
export function spawnBridge(
  run: BenchRun,
  name: string,
  batch: number,
  main: string = SERVICE_MAIN,
  metricsPort = 0,
): ChildSink {
  const { profile } = run.options;
  const child = ChildSink.spawn({
    main,
    // One folder per run: the main thread and the module-loader thread each write a file.
    ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(profile, name)}`] } : {}),
    redisUrl: run.redisUrl,
    prefix: run.prefix,
    sinkName: name,
    batchSize: batch,
    blockMs: 100,
    env: {
      BRIDGE_NAME: name,
      KAFKA_BROKERS: run.options.brokers,
      SINK_ENTITIES: ENTITY,
      SINK_METRICS_PORT: String(metricsPort),
    },
    unset: ['KAFKA_CLIENT_ID', 'KAFKA_SSL', 'KAFKA_SASL_MECHANISM'],
  });
  run.children.add(child);
  return child;
}

/** Waits until `name`'s applied watermark of every partition is the stream's last id. */
export async function waitCaughtUp(
  run: BenchRun,
  name: string,
  heads: readonly string[],
  child: ChildSink,
): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  const keys = heads.map((_, p) => run.capture.keys.watermark(ENTITY, p, name));
  for (;;) {
    const marks = await run.redis.mget(...keys);
    if (marks.every((mark, p) => mark === heads[p])) return;
    if (Date.now() > deadline)
      throw new Error(`bridge ${name} did not catch up in time:\n${child.recentOutput()}`);
    await sleep(POLL_MS);
  }
}

/** What a drain by the bridge service measured. */
export interface BridgeDrained {
  ms: number;
  /** CPU of the drain alone, not of starting Node and compiling the service. */
  cpuMs: number;
  peakRssMb: number;
  /**
   * Transactions that failed (each discards its producer, and the runner tries the apply again)
   * and producers started, over the service's life, from its metrics: a drain without failures
   * starts one producer per partition and aborts nothing.
   */
  aborted: number;
  producersStarted: number;
}

/** A port free now, for the service's metrics. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port to listen on');
  return address.port;
}

/** The sum of a counter's series in a Prometheus text exposition. */
function counter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** A drain of the whole backlog by the bridge service, timed from its "sink started" line. */
export async function bridgeDrain(
  run: BenchRun,
  backlog: Backlog,
  name: string,
  main?: string,
): Promise<BridgeDrained> {
  const port = await freePort();
  const child = spawnBridge(run, name, run.options.batch, main, port);
  try {
    await child.started;
    const from = performance.now();
    const before = await child.sample();
    await waitCaughtUp(run, name, backlog.heads, child);
    const ms = performance.now() - from;
    const after = await child.sample();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return {
      ms,
      cpuMs: after.cpuMs - before.cpuMs,
      peakRssMb: after.peakRssMb,
      aborted: counter(metrics, 'cdc_bridge_transactions_aborted_total'),
      producersStarted: counter(metrics, 'cdc_bridge_producer_started_total'),
    };
  } finally {
    try {
      await child.stop();
    } finally {
      run.children.delete(child);
    }
  }
}
