import { createRequire } from 'node:module';
import { ConfigError } from '../errors/config-error.ts';

type AbortedFilter = (input: {
  messages: unknown[];
  abortedTransactions: Array<{ firstOffset: string; producerId: string }>;
}) => Array<{ offset: string }>;

let verified = false;

/**
 * Throws ConfigError unless the installed kafkajs drops every aborted transaction's records from
 * a read_committed fetch. kafkajs 2.2.4 lets a record of an aborted transaction through when a
 * fetch starts after two aborted transactions began (`scripts/patch-kafkajs.mjs`, the install
 * script, fixes it): the bridge would then take an aborted offset record for a committed one and
 * never produce that transaction's events, and a Kafka-sourced sink would apply events that were
 * never committed. Checked once per process, on the fetch that case makes, before the first
 * read_committed read.
 */
export function assertReadCommittedFilterFixed(): void {
  if (verified) return;
  const require = createRequire(import.meta.url);
  const filter = require('kafkajs/src/consumer/filterAbortedMessages.js') as AbortedFilter;
  // A fetch from offset 105: transaction 1 began at 103, transaction 2 at 105; both aborted.
  const record = (offset: number, producerId: string, abort = false) => ({
    offset: String(offset),
    key: abort ? Buffer.from([0, 0, 0, 0]) : Buffer.from('k'),
    isControlRecord: abort,
    batchContext: { producerId, inTransaction: true },
  });
  const kept = filter({
    messages: [
      record(105, '2'),
      record(106, '1'),
      record(107, '3'),
      record(110, '1', true),
      record(111, '2', true),
    ],
    abortedTransactions: [
      { firstOffset: '103', producerId: '1' },
      { firstOffset: '105', producerId: '2' },
    ],
  }).filter((r) => r.offset !== '110' && r.offset !== '111');
  if (kept.length !== 1 || kept[0]?.offset !== '107')
    throw new ConfigError(
      "the installed kafkajs delivers records of aborted transactions to read_committed readers (its filter takes one aborted transaction per record): run `npm install` or `npm ci` with install scripts enabled, or `node scripts/patch-kafkajs.mjs`, so that the project's fix is applied",
    );
  verified = true;
}
