// Fixes kafkajs 2.2.4's read_committed filter in the installed package (run by `npm install` and
// `npm ci` as the postinstall script; running it again changes nothing).
//
// kafkajs drops the records of aborted transactions itself, walking a fetch's records with the
// broker's list of aborted transactions (sorted by first offset). For each record it takes at
// most ONE transaction off that list whose first offset the record has reached. When a fetch
// starts after two or more aborted transactions began (any fetch but the first of a partition,
// or a read of a compacted topic, whose offsets have gaps), the first records are checked
// against only the first of them, and a record of another aborted transaction is delivered as
// committed. The Java client takes every transaction the batch has reached
// (`while (... firstOffset <= lastOffset)`); so does the fixed line. kafkajs is unmaintained, so
// the fix is carried here. The bridge's offsets topic and the sinks' Kafka source read with
// read_committed and depend on it: `runtime/kafka/read-committed-check.ts` refuses to read when
// the installed filter still lets aborted records through.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const BUGGY = `    if (
      remainingAbortedTransactions.length &&
      Long.fromValue(message.offset).gte(remainingAbortedTransactions[0].firstOffset)
    ) {`;

export const FIXED = `    // Patched (redis-cdc, scripts/patch-kafkajs.mjs): every aborted transaction the record has
    // reached, not only the first.
    while (
      remainingAbortedTransactions.length &&
      Long.fromValue(message.offset).gte(remainingAbortedTransactions[0].firstOffset)
    ) {`;

/** The filter's source with the fix applied; unchanged when it already has it. */
export function patchFilterSource(source) {
  if (source.includes(FIXED)) return source;
  if (!source.includes(BUGGY))
    throw new Error(
      "kafkajs' filterAbortedMessages.js is not the version this fix was written for: check whether it still takes one aborted transaction per record, and update scripts/patch-kafkajs.mjs",
    );
  return source.replace(BUGGY, FIXED);
}

function main() {
  const require = createRequire(import.meta.url);
  let file;
  try {
    file = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
  } catch {
    // kafkajs is not installed (yet): nothing to fix.
    return;
  }
  const source = readFileSync(file, 'utf8');
  const patched = patchFilterSource(source);
  if (patched !== source) {
    writeFileSync(file, patched);
    console.log("patch-kafkajs: fixed kafkajs' read_committed filter of aborted transactions");
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
