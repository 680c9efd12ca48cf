import { compareStreamIds } from '../stream-id.ts';

/** One write-through's wait on one sink of one partition. */
export interface PendingWait {
  readonly id: string;
  /** Called once the sink has applied `id` (or beyond). */
  readonly satisfied: () => void;
}

/**
 * What this process knows of one sink's applied watermark in one partition, and the waits on it
 * in order of event id: an advance settles the waits from the front up to it, never scanning the
 * others. Writes of a partition get rising ids, so a new wait almost always goes at the back.
 */
export class AppliedView {
  /** Highest id known applied, or undefined before the first read. */
  private applied: string | undefined;
  private readonly waits: PendingWait[] = [];

  /** Whether the watermark is known to have reached `id`. */
  covers(id: string): boolean {
    return this.applied !== undefined && compareStreamIds(this.applied, id) >= 0;
  }

  /** Whether the watermark was ever read (messages alone do not tell what came before them). */
  get known(): boolean {
    return this.applied !== undefined;
  }

  get waiting(): number {
    return this.waits.length;
  }

  add(wait: PendingWait): void {
    if (this.covers(wait.id)) {
      wait.satisfied();
      return;
    }
    let at = this.waits.length;
    while (at > 0 && compareStreamIds(this.waits[at - 1]!.id, wait.id) > 0) at--;
    this.waits.splice(at, 0, wait);
  }

  remove(wait: PendingWait): void {
    const at = this.waits.indexOf(wait);
    if (at >= 0) this.waits.splice(at, 1);
  }

  /** Moves the watermark forward to `id` (never back) and settles the waits it covers. */
  advance(id: string): void {
    if (this.applied === undefined || compareStreamIds(id, this.applied) > 0) this.applied = id;
    let settled = 0;
    while (settled < this.waits.length && this.covers(this.waits[settled]!.id)) settled++;
    for (const wait of this.waits.splice(0, settled)) wait.satisfied();
  }
}
