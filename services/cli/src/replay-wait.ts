import { setTimeout as sleep } from 'node:timers/promises';
import type { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { type ProgressStep, progressBar, progressLine } from './progress-bar.ts';
import { type ReplayTarget, replayProgress } from './replay-progress.ts';

export interface ReplayWaitOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** How often to look, ms. Default 500. */
  pollMs?: number;
  /** Where progress goes: a bar redrawn in place on a terminal, else one line per step. */
  stream: NodeJS.WriteStream;
}

/**
 * Follows a requested replay until every partition has caught up (see replayProgress) or the
 * timeout runs out, reporting each step. Resolves to the last step and whether it caught up.
 */
export async function waitForReplay(
  redis: RedisClient,
  keys: Keys,
  sink: string,
  targets: readonly ReplayTarget[],
  options: ReplayWaitOptions,
): Promise<{ caughtUp: boolean; step: ProgressStep }> {
  const deadline = Date.now() + options.timeoutMs;
  const total = targets.reduce((sum, t) => sum + t.entries, 0);
  const bar = options.stream.isTTY === true;
  let shown = '';
  for (;;) {
    const progress = await replayProgress(redis, keys, sink, targets);
    const step: ProgressStep = {
      done: total - progress.reduce((sum, p) => sum + p.remaining, 0),
      total,
      caughtUpPartitions: progress.filter((p) => p.caughtUp).length,
      partitions: progress.length,
    };
    const caughtUp = step.caughtUpPartitions === step.partitions;
    const line = progressLine(step);
    if (bar) options.stream.write(`\r\u001b[2K${progressBar(step)}`);
    else if (line !== shown) options.stream.write(`${line}\n`);
    shown = line;
    if (caughtUp || Date.now() >= deadline) {
      if (bar) options.stream.write('\n');
      return { caughtUp, step };
    }
    await sleep(Math.min(options.pollMs ?? 500, Math.max(0, deadline - Date.now())));
  }
}
