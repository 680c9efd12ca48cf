import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { assertReadCommittedFilterFixed } from '../../runtime/kafka/read-committed-check.ts';
import { BUGGY, FIXED, patchFilterSource } from '../../scripts/patch-kafkajs.mjs';

const installed = readFileSync(
  createRequire(import.meta.url).resolve('kafkajs/src/consumer/filterAbortedMessages.js'),
  'utf8',
);

test('the installed kafkajs carries the read_committed fix, and the check passes on it', () => {
  assert.ok(installed.includes(FIXED), 'the install script fixed the filter');
  assert.equal(patchFilterSource(installed), installed, 'patching again changes nothing');
  assert.doesNotThrow(() => assertReadCommittedFilterFixed());
});

test('the fix turns the one-transaction-per-record test into a loop over every transaction reached', () => {
  const original = installed.replace(FIXED, BUGGY);
  assert.notEqual(original, installed);
  const patched = patchFilterSource(original);
  assert.equal(patched, installed);
  assert.match(patched, /while \(\s*remainingAbortedTransactions\.length/);
});

test('a filter the fix was not written for is refused, not patched blindly', () => {
  assert.throws(
    () => patchFilterSource('module.exports = () => []'),
    /not the version this fix was written for/,
  );
});
