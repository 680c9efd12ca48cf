import { readFileSync } from 'node:fs';
import type { Cluster, Redis, Result } from 'ioredis';

/**
 * Lua scripts, one per file named `<name>-<numberOfKeys>.lua` (or `<name>.lua` when the number of
 * keys varies: the caller passes it first). ioredis `defineCommand` sends
 * EVALSHA and falls back to EVAL on NOSCRIPT, so each script is loaded once per server.
 */
const SCRIPTS = [
  'capture-write',
  'register-schema-4',
  'restore-schema-4',
  'advance-watermark-1',
  'renew-lease-1',
  'release-lease-1',
  'claim-leased-2',
  'add-dead-letter-2',
  'remove-dead-letters-2',
  'remove-replay-request-1',
] as const;

/** A script's file name, without `.lua`. */
export type ScriptFile = (typeof SCRIPTS)[number];

/** A script's text. */
function scriptLua(file: ScriptFile): string {
  return readFileSync(new URL(`./${file}.lua`, import.meta.url), 'utf8');
}

/** `<name>-<keys>` has a fixed number of keys; a name without one takes it as its first argument. */
function parseFile(file: string): { name: string; numberOfKeys: number | undefined } {
  const match = /^(.*)-(\d+)$/.exec(file);
  const base = match ? match[1]! : file;
  return {
    name: base.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
    numberOfKeys: match ? Number(match[2]) : undefined,
  };
}

/**
 * Registers the project's scripts on a connection, one server or a Redis Cluster (on a cluster
 * ioredis sends each call to the node of its first key's slot), idempotently.
 */
export function defineCommands<R extends Redis | Cluster>(redis: R): R {
  for (const file of SCRIPTS) {
    const { name, numberOfKeys } = parseFile(file);
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    const lua = scriptLua(file);
    redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
  }
  return redis;
}

/** Argument value accepted by a script: strings, numbers or binary payloads. */
type Arg = string | number | Buffer;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    registerSchema(
      schemas: string,
      versions: string,
      fingerprints: string,
      sequence: string,
      entity: string,
      schema: string,
      identity: string,
      expectedLatest: string,
      fingerprint: string,
    ): Result<[number, number, number] | number, Context>;
    restoreSchema(
      schemas: string,
      versions: string,
      fingerprints: string,
      sequence: string,
      id: string,
      entity: string,
      version: string,
      schema: string,
      identity: string,
      fingerprint: string,
    ): Result<number, Context>;
    removeReplayRequest(requests: string, partition: string, id: string): Result<number, Context>;
    /** Per write of the call, its event id and a `CaptureWriteCode`, flat. */
    captureWrite(
      numberOfKeys: number,
      ...keysAndArgs: Arg[]
    ): Result<Array<string | number>, Context>;
    advanceWatermark(
      watermark: string,
      id: string,
      channel: string,
      payload: string,
    ): Result<number, Context>;
    renewLease(lease: string, holder: string, ttlMs: number): Result<number, Context>;
    releaseLease(lease: string, holder: string): Result<number, Context>;
    /** One XAUTOCLAIM step for the lease holder only: 0 when the lease is not `holder`'s. */
    claimLeased(
      lease: string,
      stream: string,
      holder: string,
      group: string,
      consumer: string,
      cursor: string,
      count: number,
    ): Result<0 | [string, string[], string[]], Context>;
    addDeadLetter(
      stream: string,
      index: string,
      source: string,
      ...fields: Arg[]
    ): Result<string, Context>;
    removeDeadLetters(stream: string, index: string, ...ids: string[]): Result<number, Context>;
  }
}

/** A connection with the project's scripts defined: one server or a Redis Cluster. */
export type CdcRedis = Redis | Cluster;

/** Codes `register-schema` returns instead of a result. */
export enum RegisterSchemaCode {
  /** Another version was registered after the caller read the latest one. */
  LatestChanged = -1,
}

/** What `restore-schema` did (restore-schema-4.lua). */
export enum RestoreSchemaCode {
  Restored = 1,
  AlreadyThere = 0,
  IdTaken = -1,
  VersionTaken = -2,
  EarlierVersionMissing = -3,
  RegisteredUnderAnotherId = -4,
}

/** What `capture-write` did with one write, returned beside its event id. */
export enum CaptureWriteCode {
  /** The event was appended and the cache written. */
  Written = 1,
  /** An idempotency key matched an earlier write: nothing was written, the id is the first one. */
  Duplicate = 0,
  /** The cached version is not the one a compare-and-set expected: nothing was written. */
  VersionMismatch = -1,
}
