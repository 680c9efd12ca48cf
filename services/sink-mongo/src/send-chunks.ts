import { setImmediate } from 'node:timers/promises';

/**
 * Starts `send` on every chunk, in order, each once the one before is on the wire, and resolves
 * when all are done; rejects with the first chunk's error (in chunk order) once every chunk has
 * settled, so that no write is still running when the error reaches the runner's retry.
 *
 * Why one at a time: the driver builds and sizes a bulk write's statements when it is called, and
 * serializes and sends the command only in the promise jobs and next-tick callbacks that follow.
 * Chunks started together would all be built before the first is sent, and the server would wait
 * for all of them (about a tenth of an apply, measured). Started in turn, the server works on one
 * chunk while the next is built, and they still run concurrently on the server.
 */
export async function sendChunks<T>(
  chunks: readonly T[],
  send: (chunk: T) => Promise<void>,
): Promise<void> {
  const sent: Promise<PromiseSettledResult<void>>[] = [];
  for (const chunk of chunks) {
    if (sent.length > 0) await afterSent();
    // Settled at once, not once all are started: a chunk failing meanwhile is no unhandled
    // rejection.
    sent.push(settled(send(chunk)));
  }
  const failure = (await Promise.all(sent)).find(
    (r): r is PromiseRejectedResult => r.status === 'rejected',
  );
  if (failure) throw failure.reason;
}

/**
 * Resolves once the promise jobs and next-tick callbacks queued so far have run, those of the
 * bulk write just started among them: it has selected the server, checked a connection out,
 * serialized its command and handed it to the socket. A macrotask, so I/O that arrived meanwhile
 * may run first; the server has the chunk by then.
 */
function afterSent(): Promise<void> {
  return setImmediate();
}

/** The promise's outcome, as Promise.allSettled reports it, from a promise that never rejects. */
function settled<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}
