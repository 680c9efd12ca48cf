/** One step of open-loop load, as the parent asks the generator for it. */
export interface LoadStep {
  /** Origin of the subject, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  /** Keep-alive connections of the pool to this origin (fixed by the first step to it). */
  connections: number;
  /** Path before the key, e.g. `/entities/todo/`. */
  pathPrefix: string;
  /** Query string after the key (with its `?`), or empty. */
  query: string;
  /** Extra request headers (e.g. `x-write-mode`). */
  headers: Record<string, string>;
  /** Requests per second, on a fixed schedule. */
  rate: number;
  /** How long requests are scheduled for, s. */
  seconds: number;
  /** Distinct keys drawn from. */
  keys: number;
  /** Seed of the key sequence. */
  seed: number;
  /** In-flight requests beyond which a scheduled one is dropped instead of sent. */
  maxInFlight: number;
}

/** What the generator measured over one step. Latencies in ms, from the scheduled send time. */
export interface StepResult {
  rate: number;
  seconds: number;
  /** Requests the schedule held. */
  scheduled: number;
  /** Answered with 2xx. */
  ok: number;
  /** Answered otherwise, failed, or not answered within the timeout. */
  errors: number;
  /** Not sent: too many in flight. */
  dropped: number;
  /** Answered requests per second of the step (2xx), over the schedule's length. */
  okPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** p99 of how late the generator issued a request after its scheduled time, ms. */
  sendLagP99: number;
  /** Most requests seen waiting in the pool for a free connection. */
  maxQueued: number;
  /** The first error seen, to say what went wrong. */
  firstError: string | undefined;
}

/** Parent → generator. */
export type GeneratorRequest = { type: 'step'; step: LoadStep } | { type: 'close' };

/** Generator → parent. */
export type GeneratorReply =
  | { type: 'ready' }
  | { type: 'result'; result: StepResult }
  | { type: 'failed'; message: string };
