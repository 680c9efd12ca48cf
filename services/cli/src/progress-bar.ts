/** A replay's progress over all its partitions. */
export interface ProgressStep {
  /** Entries applied again so far. */
  done: number;
  total: number;
  caughtUpPartitions: number;
  partitions: number;
}

/** Width of the bar between its brackets, in characters. */
const BAR_WIDTH = 30;

/** One line for a terminal, redrawn in place: `[#######.......]  45%  450/1000 entries, 1/4 partitions caught up`. */
export function progressBar(step: ProgressStep): string {
  const fraction = step.total === 0 ? 1 : Math.min(1, step.done / step.total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}  ${progressLine(step)}`;
}

/** The same as a plain line, one per step, for a log or a pipe. */
export function progressLine(step: ProgressStep): string {
  return `${step.done}/${step.total} entries, ${step.caughtUpPartitions}/${step.partitions} partitions caught up`;
}
