/**
 * Whether an error is a bug rather than a condition of the world: a `TypeError`, `RangeError`,
 * `ReferenceError`, `SyntaxError` or a failed assertion (`node:assert`, code `ERR_ASSERTION`).
 * Running the same code on the same input fails the same way, so retrying one only loops: every
 * sink treats them as permanent (the event goes to the dead letters with the error).
 *
 * One exception: `fetch` reports a network failure as a `TypeError` whose `cause` carries the
 * socket's error code (`ECONNREFUSED`, `UND_ERR_…`); that is the network, not a bug.
 */
export function isProgrammingError(error: unknown): boolean {
  if ((error as { code?: unknown } | null)?.code === 'ERR_ASSERTION') return true;
  if (
    !(
      error instanceof TypeError ||
      error instanceof RangeError ||
      error instanceof ReferenceError ||
      error instanceof SyntaxError
    )
  )
    return false;
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  return !(typeof causeCode === 'string' && /^(E[A-Z]+|UND_ERR_\w+)$/.test(causeCode));
}
