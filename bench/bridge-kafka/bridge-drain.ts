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
    env: { BRIDGE_NAME: name, KAFKA_BROKERS: run.options.brokers, SINK_ENTITIES: ENTITY },
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

/** A drain of the whole backlog by the bridge service, timed from its "sink started" line. */
export async function bridgeDrain(
  run: BenchRun,
  backlog: Backlog,
  name: string,
  main?: string,
): Promise<{ ms: number; cpuMs: number; peakRssMb: number }> {
  const child = spawnBridge(run, name, run.options.batch, main);
  try {
    await child.started;
    const from = performance.now();
    const before = await child.sample();
    await waitCaughtUp(run, name, backlog.heads, child);
    const ms = performance.now() - from;
    const after = await child.sample();
    // CPU of the drain alone, not of starting Node and compiling the service.
    return { ms, cpuMs: after.cpuMs - before.cpuMs, peakRssMb: after.peakRssMb };
  } finally {
    try {
      await child.stop();
    } finally {
      run.children.delete(child);
    }
  }
}
