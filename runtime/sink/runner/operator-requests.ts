import type { Logger } from 'pino';
import type { Instrumentation } from '../../instrumentation/instrumentation.ts';
import { compareStreamIds } from '../../stream-id.ts';
import type { DeadLetters } from '../dead-letters.ts';
import type { ReplayRequests } from '../replay-requests.ts';
import type { Sink } from '../sink.ts';
import type { EventSource } from '../source/event-source.ts';
import { Abandoned } from './abandoned.ts';
import type { Acknowledger } from './acknowledger.ts';
import type { EntityTargets } from './entity-targets.ts';
import type { EntryDecoder } from './entry-decoder.ts';
import type { OwnedPartition } from './owned-partition.ts';
import type { TransientRetry } from './transient-retry.ts';

/**
 * What operators ask of a sink through Redis (`cdc replay`, `cdc redrive`, `cdc skip`), carried
 * out by the instance that owns each partition, between two batches, so it never races an
 * apply. Quarantines are re-read here too, so a request made on another instance is seen.
 */
export class OperatorRequests {
  constructor(
    private readonly sink: Sink,
    private readonly source: EventSource,
    private readonly replays: ReplayRequests,
    private readonly deadLetters: DeadLetters,
    private readonly targets: EntityTargets,
    private readonly decoder: EntryDecoder,
    private readonly acknowledger: Acknowledger,
    private readonly retry: TransientRetry,
    private readonly instrumentation: Instrumentation,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Carries out the requests that concern these partitions. `dropReadAhead` is called before a
   * replay: the read ahead holds entries of every partition delivered to this consumer, which
   * then read their pending entries again.
   */
  async carryOut(
    owned: ReadonlyMap<string, OwnedPartition>,
    dropReadAhead: () => Promise<void>,
  ): Promise<void> {
    const requested = await this.replays.pending();
    const replays: Array<[OwnedPartition, string]> = [];
    for (const [id, partition] of owned) {
      const from = requested.get(id);
      if (from !== undefined) replays.push([partition, from]);
    }
    if (replays.length > 0) await dropReadAhead();
    for (const [partition, from] of replays) await this.replay(partition, from);
    for (const partition of owned.values()) {
      const { entity, partition: p } = partition.ref;
      partition.quarantined = await this.deadLetters.quarantined(entity, p);
      for (const [key, q] of partition.quarantined)
        if (q.request) await this.redrive(partition, key, q.request);
    }
  }

  /**
   * Consumes a partition again after `from`: the offset in the target goes back first (so a
   * crash half way resumes the replay from the target's offset), then the source, and the
   * partition reads new entries from there, in order. Events apply again under the sink's
   * version guards, so rows the target lost come back and newer ones stay. The request is
   * removed last, and only if unchanged.
   */
  private async replay(partition: OwnedPartition, from: string): Promise<void> {
    const { ref, offsets } = partition;
    const { entity, partition: p } = ref;
    const rewind = this.sink.rewindOffset?.bind(this.sink);
    if (!rewind) {
      this.logger?.error(
        { entity, partition: p, from },
        'this sink cannot be replayed: no rewindOffset',
      );
      await this.replays.done(entity, p, from);
      return;
    }
    if (compareStreamIds(from, offsets.committed) >= 0) {
      // Not behind this partition's offset: moving it there would skip entries, not replay them.
      this.logger?.info(
        { entity, partition: p, from, committed: offsets.committed },
        'nothing to replay',
      );
      await this.replays.done(entity, p, from);
      return;
    }
    await this.acknowledger.settle();
    await this.retry.run(() => rewind(entity, p, from));
    const entries = (await this.source.rewind(ref, from)) ?? 0;
    offsets.rewindTo(from);
    await this.replays.done(entity, p, from);
    this.instrumentation.emit('sink.partition.replayed', {
      sink: this.sink.name,
      ...ref,
      from,
      entries,
    });
    this.logger?.info({ entity, partition: p, from, entries }, 'replaying partition');
  }

  /**
   * Applies a quarantined key's dead letters in order (after `skip`, all but the failed one),
   * behind the committed offset, and releases the key; if one fails again, the key stays
   * quarantined behind it.
   */
  private async redrive(
    partition: OwnedPartition,
    key: string,
    request: 'redrive' | 'skip',
  ): Promise<void> {
    const { entity, partition: p } = partition.ref;
    const letters = (await this.deadLetters.list({ entity, key })).filter((l) => l.partition === p);
    const done: string[] = [];
    if (request === 'skip' && letters[0]) done.push(letters.shift()!.id);
    const reader = this.targets.get(entity)!.schema;
    for (const letter of letters) {
      try {
        const event = await this.decoder.decodeFields(reader, letter.sourceId, letter.fields);
        // The offset stays where it is: these events are behind it already.
        const offset = partition.offsets.committed;
        await this.retry.run(() =>
          this.sink.apply([{ entity, partition: p, events: [event], offset, redrive: true }]),
        );
        done.push(letter.id);
      } catch (err) {
        if (err instanceof Abandoned) throw err;
        await this.deadLetters.remove(done);
        await this.deadLetters.quarantine(entity, p, key, letter.id);
        partition.quarantined.set(key, { head: letter.id });
        this.logger?.error(
          { entity, partition: p, key, err },
          're-drive failed again; key stays quarantined',
        );
        return;
      }
    }
    await this.deadLetters.remove(done);
    await this.deadLetters.release(entity, p, key);
    partition.quarantined.delete(key);
    this.logger?.info(
      { entity, partition: p, key, request, events: done.length },
      'quarantined key released',
    );
  }
}
