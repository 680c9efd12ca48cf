import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildSink } from '../support/child-sink.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_MAIN = 'services/sink-postgres/src/main.ts';
/** SINK_BLOCK_MS of the services, and of the runner in this process. */
export const BLOCK_MS = 100;

/** What one PostgreSQL sink service of a run is started with. */
export interface ServiceOptions {
  redisUrl: string;
  postgresUrl: string;
  prefix: string;
  sinkName: string;
  /** POSTGRES_SCHEMA: every run has a fresh one. */
  pgSchema: string;
  batchSize: number;
  /** `--profile`: where V8 CPU profiles go, if anywhere. */
  profileDir: string | undefined;
  /** `--node-flags`, space-separated. */
  nodeFlags: string;
}

/** Starts `services/sink-postgres/src/main.ts` as a child process, as it is deployed. */
export function spawnService(options: ServiceOptions): ChildSink {
  const profile = options.profileDir
    ? [
        // One folder per run: the main thread and the module-loader thread each write a file.
        '--cpu-prof',
        `--cpu-prof-dir=${join(options.profileDir, options.sinkName)}`,
      ]
    : [];
  return ChildSink.spawn({
    main: SERVICE_MAIN,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    sinkName: options.sinkName,
    batchSize: options.batchSize,
    blockMs: BLOCK_MS,
    env: {
      POSTGRES_URL: options.postgresUrl,
      POSTGRES_SCHEMA: options.pgSchema,
      SCHEMAS_DIR: `${ROOT}schemas`,
    },
    // An entity filter from the caller's shell would change what runs.
    unset: ['SINK_ENTITIES'],
    nodeArgs: [...profile, ...options.nodeFlags.split(' ').filter(Boolean)],
  });
}
