import type { Redis } from 'ioredis';

/** Commands seen by name: how many, and ms from sending each to its reply, summed. */
export interface CommandCounter {
  counts: Map<string, { calls: number; ms: number }>;
  /** Forgets what was counted so far (setup's commands are not the drain's). */
  reset(): void;
}

/**
 * Counts the commands sent on one ioredis connection and the time until each reply, by name.
 * Diagnostic only: it wraps the connection's sendCommand. The runner's blocking reads use a
 * duplicate of the connection, which this does not see.
 */
export function countCommands(redis: Redis): CommandCounter {
  const counts = new Map<string, { calls: number; ms: number }>();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    const [command] = args;
    const started = performance.now();
    const entry = counts.get(command.name) ?? { calls: 0, ms: 0 };
    counts.set(command.name, entry);
    entry.calls++;
    const done = () => {
      entry.ms += performance.now() - started;
    };
    command.promise.then(done, done);
    return send(...args);
  }) as Redis['sendCommand'];
  return { counts, reset: () => counts.clear() };
}
