import { fileURLToPath } from 'node:url';
import { ChildSink } from '../support/child-sink.ts';
import type { BenchRun } from './bench-run.ts';
import { freePort, HttpService } from './http-service.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What a caller's shell may hold that would change what the services run. */
const CAPTURE_UNSET = ['CDC_CONFIG', 'CAPTURE_TOKEN', 'CAPTURE_BODY_LIMIT', 'CAPTURE_HOST'];

/** Something the generator sends writes to, and the process that answers them. */
export interface Subject {
  /** Table label. */
  label: string;
  service: HttpService;
  /** Keep-alive connections the generator opens to it, at most. */
  connections: number;
  /** Path before the key. */
  pathPrefix: string;
  /** Query string after the key, with its `?`, or empty. */
  query: string;
}

/** The capture service as deployed, on a fresh CDC_PREFIX, every schema of schemas/. */
export async function startCapture(
  run: BenchRun,
  name: string,
  label: string,
  connections: number,
): Promise<Subject> {
  const port = await freePort();
  const service = await HttpService.start(
    'services/capture/src/main.ts',
    port,
    {
      REDIS_URL: run.redisUrl,
      CDC_PREFIX: run.prefix(name),
      SCHEMAS_DIR: `${ROOT}schemas`,
      CAPTURE_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    CAPTURE_UNSET,
  );
  run.services.add(service);
  return { label, service, connections, pathPrefix: '/entities/todo/', query: '' };
}

/** The bare fastify route that only XADDs the body to one stream. */
export async function startBareRoute(run: BenchRun): Promise<Subject> {
  const port = await freePort();
  const service = await HttpService.start('bench/capture-http/bare-route.ts', port, {
    REDIS_URL: run.redisUrl,
    BARE_STREAM: `${run.prefix('bare')}:stream`,
    BARE_PORT: String(port),
  });
  run.services.add(service);
  return {
    label: 'bare route (XADD)',
    service,
    connections: run.options.connections,
    pathPrefix: '/entities/todo/',
    query: '',
  };
}

/**
 * The PostgreSQL sink service on `name`'s prefix, with the defaults it is deployed with (batch
 * 1000, block 1000 ms), writing into the run's fresh schema; resolves once it has started (its
 * consumer groups exist, so a write-through has a sink to wait for).
 */
export async function startPostgresSink(run: BenchRun, name: string): Promise<ChildSink> {
  const sink = ChildSink.spawn({
    main: 'services/sink-postgres/src/main.ts',
    redisUrl: run.redisUrl,
    prefix: run.prefix(name),
    sinkName: 'postgres',
    batchSize: 1000,
    blockMs: 1000,
    env: {
      POSTGRES_URL: run.postgresUrl,
      POSTGRES_SCHEMA: run.pgSchema,
      SCHEMAS_DIR: `${ROOT}schemas`,
    },
    unset: ['SINK_ENTITIES', 'SINK_SOURCE'],
  });
  run.sinks.add(sink);
  await sink.started;
  return sink;
}
