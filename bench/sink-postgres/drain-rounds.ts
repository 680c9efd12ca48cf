import type { Capture } from '../../runtime/capture/capture.ts';
import { fmt, fmtRate } from '../support/numbers.ts';
import type { Backlog } from './backlog.ts';
import type { BenchRun } from './bench-run.ts';
import { type ChildDrainResult, childDrain } from './child-drain.ts';
import { decodeCost } from './decode-cost.ts';
import { directApply } from './direct-apply.ts';
import type { DrainResult } from './drain-result.ts';
import { type BreakdownResult, inProcessDrain } from './in-process-drain.ts';
import { type RawDrainResult, rawDrain } from './raw-drain.ts';
import { readAlone } from './read-alone.ts';
import { warmUpOf } from './reads.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

/** Every drain's figures, per batch size in round order; the breakdown's are empty without it. */
export interface DrainRounds {
  raw: Map<number, RawDrainResult[]>;
  child: Map<number, ChildDrainResult[]>;
  inProcess: Map<number, BreakdownResult[]>;
  direct: Map<number, DrainResult[]>;
  reads: Map<number, DrainResult[]>;
  /** Per round: service / raw, timed after the warm-up. */
  ratios: Map<number, number[]>;
  /** Per round: service / raw over the whole drains. */
  wholeRatios: Map<number, number[]>;
  /** Decoding's CPU µs per event (`--breakdown` only, NaN without). */
  decodeMicros: number;
}

/**
 * The drains: every round, for every batch size, the raw baseline and the service back to back
 * (the side that goes first alternating), each on a fresh schema that is checked to hold the same
 * rows as the other side's; with `--breakdown`, the rungs between them too.
 */
export async function drainRounds(
  run: BenchRun,
  capture: Capture,
  backlog: Backlog,
): Promise<DrainRounds> {
  const { options, redis, redisUrl, postgresUrl, drainPrefix, children, log } = run;
  const tracker = await WatermarkTracker.open(redisUrl, redis, capture);
  try {
    const base = {
      redisUrl,
      postgresUrl,
      prefix: drainPrefix,
      batchSize: 0,
      profileDir: options.profile,
      nodeFlags: options.nodeFlags,
    };

    const raw = new Map<number, RawDrainResult[]>();
    const child = new Map<number, ChildDrainResult[]>();
    const inProcess = new Map<number, BreakdownResult[]>();
    const direct = new Map<number, DrainResult[]>();
    const reads = new Map<number, DrainResult[]>();
    const decodeMicros = options.breakdown ? await decodeCost(redis, capture) : Number.NaN;
    const ratios = new Map<number, number[]>();
    const wholeRatios = new Map<number, number[]>();
    for (const size of options.batchSizes) {
      raw.set(size, []);
      child.set(size, []);
      inProcess.set(size, []);
      direct.set(size, []);
      reads.set(size, []);
      ratios.set(size, []);
      wholeRatios.set(size, []);
    }
    for (let round = 1; round <= options.rounds; round++) {
      const sizes = round % 2 ? options.batchSizes : [...options.batchSizes].reverse();
      for (const size of sizes) {
        const warmUp = warmUpOf(backlog, size, options.warmup);
        const digests = new Map<string, string>();
        const runRaw = async () => {
          const pgSchema = await run.schemas.create(`raw_r${round}_b${size}`);
          await run.schemas.createTables(capture, pgSchema);
          raw.get(size)!.push(await rawDrain(postgresUrl, pgSchema, backlog, size, warmUp));
          digests.set('raw', await run.schemas.retire(pgSchema));
        };
        const runChild = async () => {
          const pgSchema = await run.schemas.create(`svc_r${round}_b${size}`);
          child
            .get(size)!
            .push(
              await childDrain(
                { ...base, batchSize: size },
                `svc-r${round}-b${size}`,
                pgSchema,
                tracker,
                backlog,
                options.events,
                warmUp,
                children,
              ),
            );
          digests.set('svc', await run.schemas.retire(pgSchema));
        };
        // Alternate which side goes first so drift in the machine's load hits both.
        const order = round % 2 ? [runRaw, runChild] : [runChild, runRaw];
        for (const side of order) await side();
        // Both sides must have done the same work: the same rows with the same versions.
        if (digests.get('raw') !== digests.get('svc'))
          throw new Error(`round ${round}, batch ${size}: service and raw tables differ`);
        if (options.breakdown) {
          const directSchema = await run.schemas.create(`dir_r${round}_b${size}`);
          direct
            .get(size)!
            .push(await directApply(postgresUrl, capture, directSchema, backlog, size));
          digests.set('direct', await run.schemas.retire(directSchema));
          reads.get(size)!.push(await readAlone(redis, capture, `read-r${round}-b${size}`, size));
          const pgSchema = await run.schemas.create(`inp_r${round}_b${size}`);
          inProcess
            .get(size)!
            .push(
              await inProcessDrain(
                redisUrl,
                postgresUrl,
                drainPrefix,
                `inp-r${round}-b${size}`,
                pgSchema,
                size,
                tracker,
                backlog,
                options.events,
              ),
            );
          digests.set('in-process', await run.schemas.retire(pgSchema));
          for (const side of ['direct', 'in-process'])
            if (digests.get(side) !== digests.get('raw'))
              throw new Error(`round ${round}, batch ${size}: ${side} and raw tables differ`);
        }
        const r = raw.get(size)!.at(-1)!;
        const c = child.get(size)!.at(-1)!;
        ratios.get(size)!.push(c.eventsPerSecond / r.eventsPerSecond);
        wholeRatios.get(size)!.push(c.wholeEventsPerSecond / r.wholeEventsPerSecond);
        const extra = options.breakdown
          ? `; apply alone ${fmtRate(direct.get(size)!.at(-1)!.eventsPerSecond)}/s, ` +
            `read alone ${fmtRate(reads.get(size)!.at(-1)!.eventsPerSecond)}/s, ` +
            `runner in-process ${fmtRate(inProcess.get(size)!.at(-1)!.eventsPerSecond)}/s`
          : '';
        log(
          `round ${round}, batch ${size}: raw ${fmtRate(r.eventsPerSecond)}/s, ` +
            `service ${fmtRate(c.eventsPerSecond)}/s (${fmt(ratios.get(size)!.at(-1)!)}x, ` +
            `peak RSS ${fmt(c.peakRssMb, 0)} MB, started in ${c.startupMs} ms)${extra}`,
        );
      }
    }
    return { raw, child, inProcess, direct, reads, ratios, wholeRatios, decodeMicros };
  } finally {
    await tracker.close();
  }
}
