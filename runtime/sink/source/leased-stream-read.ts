import { RedisReadError } from '../../errors/redis-read-error.ts';
import { RedisReplyError } from '../../errors/redis-reply-error.ts';
import { RESP, type RespReply, tokenBytes, tokenKind, tokenText } from '../../resp/resp-reply.ts';
import { type StreamEntries, streamEntriesAt } from '../../resp/stream-entries.ts';
import type { ReadSession, StreamReadConnection } from '../../resp/stream-read-connection.ts';

/** One partition to read for the holder of its lease. */
export interface LeasedReadRequest {
  readonly stream: string;
  readonly lease: string;
  /** An id (this consumer's pending entries after it) or `>` (new entries). */
  readonly cursor: string;
}

/** What a lease-checked read of one partition found. */
export type LeasedReadResult =
  /** The lease is not the reader's: nothing was read, nothing delivered. */
  | { readonly kind: 'refused' }
  /** Entries read (for a read of pending entries, possibly none: all of them are read). */
  | { readonly kind: 'read'; readonly entries: StreamEntries | undefined }
  /** A read of new entries found none (`waitPoints` tells where to wait from). */
  | { readonly kind: 'nothing-new' };

/**
 * Reads partitions through the consumer group only while the reader holds their leases, on the
 * sink's own read connection, in two round trips:
 *
 * 1. `WATCH` of the leases and `MGET` of them;
 * 2. for the partitions whose lease is the reader's, `MULTI`, one `XREADGROUP` per partition,
 *    `EXEC`.
 *
 * `EXEC` runs the reads only if no watched lease changed since the `WATCH` (it answers null
 * otherwise, and nothing was read), so every read happens while the lease the `MGET` saw is
 * still the reader's: the same guarantee as checking and reading in one script, without Redis
 * turning each `XREADGROUP` reply into Lua values and back (read-leased-2.lua did, and that
 * conversion cost more than the read itself). `WATCH` is per connection: if the connection is
 * replaced between the two round trips, the second is not sent (`pipelineOn`) and the read
 * starts again. An aborted `EXEC` (a lease renewed, taken or expired meanwhile) starts it again
 * too, a few times, then the read fails as retriable.
 *
 * On a Redis Cluster a transaction and its `WATCH` must stay within one slot, and `EXEC` ends
 * every watch of its connection: each partition (one hash tag) has a connection of its own to its
 * slot's master there, and reads with one request (`ClusterPartitionReader`; ARCHITECTURE.md,
 * "Reading only while holding the lease").
 */
export class LeasedStreamRead {
  private readonly holder: Buffer;
  /**
   * The read in progress: reads go one at a time, since a check's `WATCH` lasts until the
   * `EXEC` after it on the connection, and another read's `EXEC` in between would end it.
   */
  private current: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly reader: StreamReadConnection,
    private readonly group: string,
    private readonly consumer: string,
  ) {
    this.holder = Buffer.from(consumer);
  }

  /** One lease-checked, non-blocking read per request. */
  read(
    requests: readonly LeasedReadRequest[],
    count: number,
    timeoutMs: number,
  ): Promise<LeasedReadResult[]> {
    const read = this.current.then(() => this.readNow(requests, count, timeoutMs));
    this.current = read.catch(() => undefined);
    return read;
  }

  private async readNow(
    requests: readonly LeasedReadRequest[],
    count: number,
    timeoutMs: number,
  ): Promise<LeasedReadResult[]> {
    for (let attempt = 1; ; attempt++) {
      const results = await this.attempt(requests, count, timeoutMs);
      if (results) return results;
      if (attempt >= MAX_ATTEMPTS)
        throw new RedisReadError(
          `the lease-checked read was aborted ${attempt} times in a row (the leases kept changing ` +
            'or the read connection kept failing between the check and the read)',
        );
    }
  }

  /**
   * Where to wait for entries after reads of new entries found none: each stream's group's
   * last-delivered id. An `XREAD BLOCK` from it (which delivers nothing to the group) returns
   * as soon as there is anything a read of new entries would get, including an entry added
   * after the read that found none.
   */
  async waitPoints(streams: readonly string[], timeoutMs: number): Promise<string[]> {
    const settled = await this.reader.pipeline(
      streams.map((stream) => ['XINFO', 'GROUPS', stream]),
      timeoutMs,
    );
    return settled.map((outcome, i) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      const id = lastDelivered(outcome.value, this.group);
      if (id === undefined)
        throw new RedisReadError(`the group ${this.group} is missing on ${streams[i]}`);
      return id;
    });
  }

  /** One check-and-read; undefined when nothing was read and it must be made again. */
  private async attempt(
    requests: readonly LeasedReadRequest[],
    count: number,
    timeoutMs: number,
  ): Promise<LeasedReadResult[] | undefined> {
    const session = await this.reader.session();
    const leases = requests.map((r) => r.lease);
    const checked = await this.reader.pipelineOn(
      session,
      [
        ['WATCH', ...leases],
        ['MGET', ...leases],
      ],
      timeoutMs,
    );
    if (!checked) return undefined;
    const leased = settledReply(checked[1]!);
    settledReply(checked[0]!);
    const results: LeasedReadResult[] = new Array(requests.length);
    const held: number[] = [];
    for (let i = 0; i < requests.length; i++) {
      // MGET's reply: the array's token, then one bulk (or null) per key.
      const token = 1 + i;
      if (tokenKind(leased, token) === RESP.bulk && tokenBytes(leased, token).equals(this.holder))
        held.push(i);
      else results[i] = REFUSED;
    }
    if (held.length === 0) {
      await this.unwatch(session, timeoutMs);
      return results;
    }
    const commands: Array<ReadonlyArray<string | number>> = [['MULTI']];
    for (const i of held) {
      const { stream, cursor } = requests[i]!;
      commands.push([
        'XREADGROUP',
        'GROUP',
        this.group,
        this.consumer,
        'COUNT',
        count,
        'STREAMS',
        stream,
        cursor,
      ]);
    }
    commands.push(['EXEC']);
    const settled = await this.reader.pipelineOn(session, commands, timeoutMs);
    // The connection went after the check: its WATCH with it. Nothing was sent.
    if (!settled) return undefined;
    for (let c = 0; c < settled.length - 1; c++) settledReply(settled[c]!);
    const exec = settledReply(settled[settled.length - 1]!);
    // A watched lease changed between the check and EXEC: no read ran.
    if (tokenKind(exec, 0) === RESP.null) return undefined;
    if (tokenKind(exec, 0) !== RESP.array || exec.tokens[1] !== held.length)
      throw new RedisReadError('unexpected reply to EXEC of the lease-checked reads');
    let token = 1;
    for (const i of held) {
      const kind = tokenKind(exec, token);
      if (kind === RESP.error) throw new RedisReplyError('XREADGROUP', tokenText(exec, token));
      if (kind === RESP.null && requests[i]!.cursor === NEW_ENTRIES) {
        results[i] = NOTHING_NEW;
        token++;
        continue;
      }
      const { streams, end } = streamEntriesAt(exec, token);
      results[i] = { kind: 'read', entries: streams[0] };
      token = end;
    }
    return results;
  }

  /** Ends the watch of a check that read nothing, so that it aborts no later transaction. */
  private async unwatch(session: ReadSession, timeoutMs: number): Promise<void> {
    const settled = await this.reader.pipelineOn(session, [['UNWATCH']], timeoutMs);
    if (settled) settledReply(settled[0]!);
  }
}

/** A lease-checked read is made again at most this many times in a row. */
const MAX_ATTEMPTS = 5;

const NEW_ENTRIES = '>';
const REFUSED: LeasedReadResult = { kind: 'refused' };
const NOTHING_NEW: LeasedReadResult = { kind: 'nothing-new' };
const LAST_DELIVERED = Buffer.from('last-delivered-id');
const NAME = Buffer.from('name');

function settledReply(outcome: PromiseSettledResult<RespReply>): RespReply {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/**
 * The last-delivered id of `group` in an `XINFO GROUPS` reply (RESP2: an array of groups, each
 * a flat array of field names and scalar values), or undefined if the group is not there.
 */
function lastDelivered(reply: RespReply, group: string): string | undefined {
  if (tokenKind(reply, 0) !== RESP.array) return undefined;
  const groups = reply.tokens[1]!;
  let t = 1;
  for (let g = 0; g < groups; g++) {
    if (tokenKind(reply, t) !== RESP.array) return undefined;
    const items = reply.tokens[t * 3 + 1]!;
    t++;
    let name: string | undefined;
    let last: string | undefined;
    for (let f = 0; f + 1 < items; f += 2) {
      const field = tokenBytes(reply, t + f);
      if (field.equals(NAME)) name = tokenText(reply, t + f + 1);
      else if (field.equals(LAST_DELIVERED)) last = tokenText(reply, t + f + 1);
    }
    if (name === group) return last;
    t += items;
  }
  return undefined;
}
