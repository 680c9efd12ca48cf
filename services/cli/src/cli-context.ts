import type { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { Output } from './output.ts';
import { withRedis } from './redis-session.ts';

/** The global options every command runs with (`cdc [--prefix p] [--json] <command>`). */
export interface GlobalOptions {
  prefix: string;
  json?: boolean;
}

/** What a command's action gets: its output and its Redis, per the global options. */
export class CliContext {
  readonly out: Output;

  constructor(private readonly options: GlobalOptions) {
    this.out = new Output({ json: options.json === true });
  }

  get json(): boolean {
    return this.out.json;
  }

  withRedis<T>(work: (redis: RedisClient, keys: Keys) => Promise<T>): Promise<T> {
    return withRedis(this.options.prefix, work);
  }
}

/** Builds the context when an action runs: the global options are parsed by then. */
export type ContextOf = () => CliContext;
