import assert from 'node:assert/strict';

/** Awaits a promise that must reject, and returns its error for the test to examine. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('the promise resolved');
}
