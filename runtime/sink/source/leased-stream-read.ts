import { scriptSource } from '../../commands/index.ts';
import { RedisReadError } from '../../errors/redis-read-error.ts';
import { RedisReplyError } from '../../errors/redis-reply-error.ts';
import { RESP, type RespReply, tokenKind, tokenText } from '../../resp/resp-reply.ts';
import { type StreamEntries, streamEntries } from '../../resp/stream-entries.ts';
import type { StreamReadConnection } from '../../resp/stream-read-connection.ts';

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
  /** A read of new entries found none; `last` is the stream's last entry id, to wait from. */
  | { readonly kind: 'nothing-new'; readonly last: string };

const READ_LEASED = scriptSource('read-leased-2');

/**
 * Reads partitions through the consumer group only while the reader holds their leases
 * (read-leased-2.lua: the check and the XREADGROUP in one script per partition, so one Redis
 * Cluster slot each), on the sink's own read connection: the scripts of one read go out in one
 * write, and their replies keep XREADGROUP's shape, parsed where they lie as before.
 */
export class LeasedStreamRead {
  constructor(
    private readonly reader: StreamReadConnection,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /** One lease-checked, non-blocking read per request, in one round trip. */
  async read(
    requests: readonly LeasedReadRequest[],
    count: number,
    timeoutMs: number,
  ): Promise<LeasedReadResult[]> {
    const commands = requests.map((r) => [
      'EVALSHA',
      READ_LEASED.sha,
      2,
      r.lease,
      r.stream,
      this.consumer,
      this.group,
      this.consumer,
      count,
      r.cursor,
    ]);
    const settled = await this.reader.pipeline(commands, timeoutMs);
    const results: LeasedReadResult[] = new Array(requests.length);
    const missing: number[] = [];
    for (let i = 0; i < settled.length; i++) {
      const outcome = settled[i]!;
      if (outcome.status === 'fulfilled') results[i] = leasedReadResult(outcome.value);
      else if (isNoScript(outcome.reason)) missing.push(i);
      else throw outcome.reason;
    }
    if (missing.length === 0) return results;
    // The server lost its script cache (a restart, SCRIPT FLUSH): nothing ran for these. Loaded
    // once and run again; any other failure fails the read (entries delivered to the scripts
    // that ran stay pending for this consumer, read again after the failed turn).
    await this.reader.command(['SCRIPT', 'LOAD', READ_LEASED.lua], timeoutMs);
    const again = await this.reader.pipeline(
      missing.map((i) => commands[i]!),
      timeoutMs,
    );
    for (let j = 0; j < missing.length; j++) {
      const outcome = again[j]!;
      if (outcome.status === 'rejected') throw outcome.reason;
      results[missing[j]!] = leasedReadResult(outcome.value);
    }
    return results;
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof RedisReplyError && err.reply.startsWith('NOSCRIPT');
}

/** The script's reply: 0, XREADGROUP's reply, or the stream's last id. */
function leasedReadResult(reply: RespReply): LeasedReadResult {
  const kind = reply.count > 0 ? tokenKind(reply, 0) : RESP.null;
  if (kind === RESP.integer) return { kind: 'refused' };
  if (kind === RESP.bulk) return { kind: 'nothing-new', last: tokenText(reply, 0) };
  if (kind === RESP.array || kind === RESP.null) {
    const [entries] = streamEntries(reply);
    return { kind: 'read', entries };
  }
  throw new RedisReadError(`unexpected reply to the lease-checked read: token kind ${kind}`);
}
