import type { EntityTarget, PartitionBatch, PreparedApply, Sink } from './sink.ts';

/**
 * A sink around another one: everything passes through to `inner`, and every apply, plain or of
 * a batch the inner sink prepared ahead, runs through `around`, which a subclass overrides to
 * time, observe or hold applies. The wrapper offers `prepare` exactly when the inner sink does,
 * so wrapping a sink does not change how the runner drives it.
 */
export abstract class WrappedSink implements Sink {
  constructor(protected readonly inner: Sink) {}

  get name(): string {
    return this.inner.name;
  }
  get readsPayloads(): boolean | undefined {
    return this.inner.readsPayloads;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  ensureTargets(targets: readonly EntityTarget[]): Promise<void> {
    return this.inner.ensureTargets(targets);
  }
  readOffsets(): Promise<Map<string, string>> {
    return this.inner.readOffsets();
  }
  apply(batches: readonly PartitionBatch[]): Promise<void> {
    return this.around(batches, () => this.inner.apply(batches), false);
  }
  get prepare(): ((batches: readonly PartitionBatch[]) => PreparedApply | undefined) | undefined {
    const prepare = this.inner.prepare?.bind(this.inner);
    if (!prepare) return undefined;
    return (batches) => {
      const prepared = prepare(batches);
      return prepared && (() => this.around(batches, prepared, true));
    };
  }
  get rewindOffset():
    | ((entity: string, partition: number, id: string) => Promise<void>)
    | undefined {
    return this.inner.rewindOffset?.bind(this.inner);
  }
  isTransient(error: unknown): boolean {
    return this.inner.isTransient(error);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Runs one apply of these batches; `prepared` says whether it is a prepared one. */
  protected abstract around(
    batches: readonly PartitionBatch[],
    apply: () => Promise<void>,
    prepared: boolean,
  ): Promise<void>;
}
