import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { RedisReadError } from '../../errors/redis-read-error.ts';
import { clusterMasterOf, clusterRedirectOf } from '../../redis-cluster-route.ts';
import { readConnectionOptions, StreamReadConnection } from '../../resp/stream-read-connection.ts';
import { type LeasedReadResult, LeasedStreamRead } from './leased-stream-read.ts';
import { READ_TIMEOUT_MARGIN_MS } from './stream-reads.ts';

/** A wait for new entries on one partition: a blocking `XREAD` from the group's position. */
interface Wait {
  settled: boolean;
  readonly done: Promise<void>;
}

/**
 * One partition's reads on a Redis Cluster, over a connection of its own to the master of the
 * partition's slot. Its own, because a lease-checked read is a `WATCH` of the lease and a
 * transaction, which must stay within one slot and which any other transaction on the same
 * connection would end; and because its wait for new entries is a blocking `XREAD`, which holds
 * the connection until something arrives (partitions of one node wait side by side).
 *
 * Routing follows the client's slot map: before each exchange the reader asks which master
 * serves the slot and moves its connection there when it changed. A `MOVED` reply refreshes the
 * map and the read is made again on the new master; `ASK`, `TRYAGAIN` and an aborted transaction
 * (the slot is being migrated, its keys on both sides) are asked again shortly, as is
 * `CLUSTERDOWN` (a failover under way); a lost connection (the master died) refreshes the map
 * and fails the read, which the runner retries.
 */
export class ClusterPartitionReader {
  private connection: StreamReadConnection | undefined;
  private address: string | undefined;
  private leased: LeasedStreamRead | undefined;
  private wait: Wait | undefined;

  constructor(
    private readonly cluster: Cluster,
    readonly stream: string,
    private readonly lease: string,
    private readonly group: string,
    private readonly consumer: string,
    private readonly blockMs: number,
  ) {}

  /** A wait started and not over: nothing new arrived since it started. */
  get waiting(): boolean {
    return this.wait !== undefined && !this.wait.settled;
  }

  /** Settles when the wait in progress ends (entries arrived, the block time passed, or it failed). */
  waited(): Promise<void> {
    return this.wait?.done ?? Promise.resolve();
  }

  /** One lease-checked read of pending entries after `cursor`, or of new entries (`>`). */
  async read(cursor: string, count: number): Promise<LeasedReadResult> {
    this.endWait();
    for (let attempt = 1; ; attempt++) {
      const leased = this.route();
      try {
        const [result] = await leased.read(
          [{ stream: this.stream, lease: this.lease, cursor }],
          count,
          this.blockMs + READ_TIMEOUT_MARGIN_MS,
        );
        return result!;
      } catch (err) {
        if (!(await this.recover(err, attempt))) throw err;
      }
    }
  }

  /**
   * Starts waiting for new entries, unless a wait is in progress: from the group's
   * last-delivered id, so an entry added after the read that found none ends it at once. The
   * wait delivers nothing to the group; a read after it does. It never rejects: a failed wait
   * ends, and the read after it meets the failure.
   */
  startWait(): void {
    if (this.waiting) return;
    const wait: Wait = {
      settled: false,
      done: this.waitForEntries()
        .catch(() => undefined)
        .finally(() => {
          wait.settled = true;
        }),
    };
    this.wait = wait;
  }

  /** Ends a wait in progress (its connection is dropped, the next read opens another). */
  endWait(): void {
    if (this.waiting) this.connection?.reset('the wait for new entries was ended');
    this.wait = undefined;
  }

  close(): void {
    this.wait = undefined;
    this.connection?.close();
  }

  private async waitForEntries(): Promise<void> {
    const leased = this.route();
    const timeoutMs = this.blockMs + READ_TIMEOUT_MARGIN_MS;
    const [from] = await leased.waitPoints([this.stream], timeoutMs);
    await this.connection!.command(
      ['XREAD', 'COUNT', 1, 'BLOCK', this.blockMs, 'STREAMS', this.stream, from!],
      timeoutMs,
    );
  }

  /** The read of the master now serving the partition's slot, moved there if need be. */
  private route(): LeasedStreamRead {
    const master = clusterMasterOf(this.cluster, this.stream);
    // A map without the slot (a failover under way) keeps the connection there is, if any.
    if (master && master.address !== this.address) {
      this.connection?.close();
      this.connection = new StreamReadConnection(readConnectionOptions(master.node));
      this.address = master.address;
      this.leased = new LeasedStreamRead(this.connection, this.group, this.consumer);
    }
    if (!this.leased)
      throw new RedisReadError(
        `no master of the Redis Cluster is known to serve the slot of ${this.stream} ` +
          '(the slot map is not loaded yet, or a failover is under way)',
      );
    return this.leased;
  }

  /** Whether a failed read is worth making again now; refreshes the slot map when it moved. */
  private async recover(err: unknown, attempt: number): Promise<boolean> {
    const redirect = clusterRedirectOf(err);
    if (redirect === undefined || attempt >= MAX_ATTEMPTS) {
      // A lost connection: its master may have failed over. The runner retries the read.
      if (err instanceof RedisReadError) this.refreshSlots().catch(() => undefined);
      return false;
    }
    if (redirect.kind === 'moved') await this.refreshSlots();
    else await sleep(RETRY_STEP_MS * attempt);
    return true;
  }

  private refreshSlots(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.cluster.refreshSlotsCache((err) => (err ? reject(err) : resolve())),
    );
  }
}

/** A redirected read is made again at most this many times in a row. */
const MAX_ATTEMPTS = 10;

/** Pause before asking again about a slot in migration, times the attempt, ms. */
const RETRY_STEP_MS = 25;
