import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchWrite, Capture } from '../../runtime/capture/capture.ts';
import { seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';

/** Writes per capture.writeMany call: 30 calls a second at 1500 writes/s. */
const CALL_SIZE = 50;
/** Every DELETE_EVERY-th write is a delete, as in the sink benchmarks' backlogs. */
const DELETE_EVERY = 20;

/** What the load wrote. */
export interface LoadResult {
  written: number;
  /** Writes per second actually achieved. */
  writtenPerSecond: number;
  /** The last operation of every key written: what the targets must hold in the end. */
  lastOp: Map<string, 'upsert' | 'delete'>;
}

/**
 * Writes `rate` changes a second of the `todo` entity for `seconds`, in calls of 50 on a fixed
 * schedule (a late call is not made up for by a burst: the next one keeps to its own time), over
 * `keys` keys drawn with a seeded generator.
 */
export async function steadyLoad(
  capture: Capture,
  entity: string,
  options: { rate: number; seconds: number; keys: number },
): Promise<LoadResult> {
  const random = seeded(0x50a4);
  const lastOp = new Map<string, 'upsert' | 'delete'>();
  const calls = Math.max(1, Math.round((options.rate * options.seconds) / CALL_SIZE));
  const intervalMs = (CALL_SIZE * 1000) / options.rate;
  let i = 0;
  const startedAt = performance.now();
  for (let c = 0; c < calls; c++) {
    const wait = startedAt + c * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const writes: BatchWrite[] = [];
    for (let n = 0; n < CALL_SIZE; n++, i++) {
      const key = Math.floor(random() * options.keys);
      const id = `todo-${key}`;
      if (i % DELETE_EVERY === DELETE_EVERY - 1) {
        writes.push({ op: 'delete', key: id });
        lastOp.set(id, 'delete');
      } else {
        writes.push({ op: 'upsert', record: benchTodo(i, key) });
        lastOp.set(id, 'upsert');
      }
    }
    await capture.writeMany(entity, writes);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return { written: i, writtenPerSecond: i / seconds, lastOp };
}
