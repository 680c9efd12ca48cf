/**
 * The open-loop load generator, run in a child process of its own so that it shares no event loop
 * with what it measures (`load-client.ts` starts it). Requests of a step are sent on a fixed
 * schedule (request i at start + i / rate) whether or not the ones before were answered, and each
 * latency runs from the scheduled time, not from when it was sent: a slow answer delays nothing,
 * so queueing in the subject shows up in the figures instead of slowing the load down
 * (coordinated omission). One keep-alive undici Pool per subject is kept across steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { percentile, seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';
import type { GeneratorReply, GeneratorRequest, LoadStep, StepResult } from './load-step.ts';

/** A request not answered this long after it was sent counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How often the schedule is looked at; requests due meanwhile go together. */
const TICK_MS = 1;

const pools = new Map<string, Pool>();

function poolFor(origin: string, connections: number): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    pools.set(origin, pool);
  }
  return pool;
}

/** The body of write i: the shared bench todo without its key, which the URL gives. */
function body(i: number, key: number): string {
  const { id: _id, ...fields } = benchTodo(i, key);
  return JSON.stringify(fields);
}

async function runStep(step: LoadStep): Promise<StepResult> {
  const pool = poolFor(step.origin, step.connections);
  const random = seeded(step.seed);
  const scheduled = Math.round(step.rate * step.seconds);
  const intervalMs = 1000 / step.rate;
  const latencies = new Float64Array(scheduled);
  const sendLags = new Float64Array(scheduled);
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let sent = 0;
  let maxQueued = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const headers = { 'content-type': 'application/json', ...step.headers };
  const fail = (message: string) => {
    errors++;
    firstError ??= message;
  };

  const send = async (i: number, due: number): Promise<void> => {
    const key = Math.floor(random() * step.keys);
    const path = `${step.pathPrefix}todo-${key}${step.query}`;
    sendLags[sent++] = performance.now() - due;
    inFlight++;
    try {
      const response = await pool.request({ method: 'PUT', path, headers, body: body(i, key) });
      const text = await response.body.text();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        latencies[ok++] = performance.now() - due;
      } else {
        fail(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
      }
    } catch (err) {
      fail((err as Error).message);
    } finally {
      inFlight--;
    }
  };

  const pending = new Set<Promise<void>>();
  const start = performance.now();
  let next = 0;
  while (next < scheduled) {
    const now = performance.now();
    // Everything due by now goes out, however many answers are outstanding.
    while (next < scheduled && start + next * intervalMs <= now) {
      const due = start + next * intervalMs;
      if (inFlight >= step.maxInFlight) {
        dropped++;
      } else {
        const p = send(next, due);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      next++;
    }
    // Requests waiting in the pool for a free connection: if many, the pool, not the subject, is
    // what they queued for, and more connections are needed.
    maxQueued = Math.max(maxQueued, pool.stats.queued);
    await sleep(TICK_MS);
  }
  await Promise.race([Promise.all(pending), sleep(REQUEST_TIMEOUT_MS + 1000)]);
  // Anything still out has been counted by nobody: it timed out.
  errors += pending.size;
  if (pending.size > 0) firstError ??= `${pending.size} requests never answered`;

  const answered = latencies.subarray(0, ok).sort();
  const sentLags = sendLags.subarray(0, sent).sort();
  return {
    rate: step.rate,
    seconds: step.seconds,
    scheduled,
    ok,
    errors,
    dropped,
    okPerSecond: ok / step.seconds,
    p50: percentile(answered, 50),
    p90: percentile(answered, 90),
    p99: percentile(answered, 99),
    max: answered.length > 0 ? answered[answered.length - 1]! : Number.NaN,
    sendLagP99: percentile(sentLags, 99),
    maxQueued,
    firstError,
  };
}

function reply(message: GeneratorReply): void {
  process.send?.(message);
}

process.on('message', (message: GeneratorRequest) => {
  if (message.type === 'close') {
    void Promise.all([...pools.values()].map((p) => p.close())).finally(() => process.exit(0));
    return;
  }
  runStep(message.step).then(
    (result) => reply({ type: 'result', result }),
    (err: unknown) => reply({ type: 'failed', message: (err as Error).stack ?? String(err) }),
  );
});
// The parent going away (Ctrl-C) ends the generator too.
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
