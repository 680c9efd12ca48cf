/**
 * Rejects when `promise` has not settled within `ms`, so a test waiting on a server (a message
 * that never arrives, a stream read that never returns) fails with a reason instead of hanging
 * until the runner's own timeout.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
