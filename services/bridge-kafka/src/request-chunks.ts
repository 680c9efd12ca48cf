import type { Message } from 'kafkajs';

/**
 * A message's size on the wire, roughly: key, value, header names and values, and a record's
 * fixed overhead. Good enough to keep a request under a byte budget.
 */
export function messageBytes(message: Message): number {
  let bytes = 24 + byteLength(message.key) + byteLength(message.value);
  const headers = message.headers;
  if (headers)
    for (const name in headers) {
      const value = headers[name];
      bytes += name.length + 2;
      if (Array.isArray(value)) for (const v of value) bytes += byteLength(v);
      else bytes += byteLength(value);
    }
  return bytes;
}

/**
 * Messages cut into consecutive runs of at most `maxBytes` each (a message larger than that on
 * its own makes a run of one), in order. A produce request puts all of a partition's records in
 * one record batch, which the broker refuses whole past `max.message.bytes` (1 MiB by default):
 * a transaction is sent as several requests, so that only a record that is too large by itself
 * is refused.
 */
export function chunkMessages<M extends Message>(messages: readonly M[], maxBytes: number): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
