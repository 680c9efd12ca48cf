import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BatchWrite, Capture, WriteOptions } from '../../../runtime/capture/capture.ts';
import type { WriteMode } from '../../../runtime/capture/capture-options.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { NotFoundError } from '../../../runtime/errors/not-found-error.ts';
import { ValidationError } from '../../../runtime/errors/validation-error.ts';
import { commandFailure } from '../../../runtime/redis-errors.ts';
import { stringifyExactJson } from '../../../runtime/schema/exact-json.ts';
import { tokenMatches } from './auth.ts';
import { registerCaptureMetrics } from './capture-metrics.ts';
import { type DashboardOptions, registerDashboard } from './dashboard/register-dashboard.ts';
import { toHttpError } from './http-errors.ts';
import { parseJsonBodies } from './json-body-parser.ts';
import { schemaRegistryApi } from './schema-registry-api.ts';

/** Options of the capture HTTP server. */
export interface CaptureServerOptions {
  /**
   * When set, every route but /healthz requires `Authorization: Bearer <token>`, or basic auth
   * with the token as password (what Schema Registry clients send). Default: none.
   */
  token?: string;
  /** Largest accepted request body, bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Most writes in one batch request. Default 1000. */
  maxBatch?: number;
  /** Logger; default: none. */
  logger?: FastifyBaseLogger;
  /**
   * The Kafka bridge's topic per entity (`resolveKafkaTopics`): the registry API's subjects are
   * `<topic>-value`. Default: none, every entity in `<prefix>.<entity>`.
   */
  kafkaTopics?: ReadonlyMap<string, { topic: string }>;
  /**
   * The live lag page at /dashboard and the monitor's gauges on /metrics (the monitor's own Redis
   * connection, one server, and its timings). Its replay and quarantine requests are offered only
   * with a token. Default: none, no page.
   */
  dashboard?: DashboardOptions;
}

type EntityParams = { entity: string };
type KeyParams = { entity: string; key: string };

/**
 * HTTP front of a Capture. Headers: `Idempotency-Key`, `X-Write-Mode: behind|through` (or
 * `?mode=`), `X-Trace-Id`, `X-Timeout-Ms` for write-through.
 */
export function buildCaptureServer(
  capture: Capture,
  options: CaptureServerOptions = {},
): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    // Per-request logs would cost more than the writes they describe; metrics count requests.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // A long beyond ±(2^53 − 1) is a BigInt: answered as its digits, a plain JSON number literal.
  app.setReplySerializer((payload) => stringifyExactJson(payload) ?? '');
  const maxBatch = options.maxBatch ?? 1000;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  registerCaptureMetrics(capture.instrumentation, metrics);

  if (options.token) {
    const token = options.token;
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.split('?', 1)[0] === '/healthz') return;
      if (!tokenMatches(request.headers.authorization, token)) {
        // A browser asks for basic credentials (any user, the token as password) on the lag page.
        const page = request.url.startsWith('/dashboard');
        await reply
          .code(401)
          .header('www-authenticate', page ? 'Basic realm="cdc", charset="UTF-8"' : 'Bearer')
          .send({ error: 'UNAUTHORIZED', message: 'missing or wrong bearer token' });
      }
    });
  }

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttpError(err);
    const entity = (request.params as Partial<EntityParams> | undefined)?.entity;
    // Only refused writes count, labelled by configured entities only: the label set stays bounded.
    const isWrite = request.method !== 'GET';
    if (isWrite && entity && err instanceof CdcError && status < 500) {
      const label = capture.entityNames().includes(entity) ? entity : '(unknown)';
      capture.instrumentation.emit('capture.rejected', { entity: label, code: err.code });
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.code(status).send(body);
  });

  parseJsonBodies(app);

  void app.register(schemaRegistryApi, {
    registry: capture.registry,
    topicPrefix: capture.keys.prefix,
    topics: options.kafkaTopics,
  });

  app.put<{ Params: KeyParams }>('/entities/:entity/:key', async (request) =>
    capture.upsert(
      request.params.entity,
      request.body,
      writeOptions<WriteOptions & { key: string }>(request, { key: request.params.key }),
    ),
  );

  app.patch<{ Params: KeyParams }>('/entities/:entity/:key', async (request) =>
    capture.patch(
      request.params.entity,
      request.params.key,
      request.body,
      writeOptions(request, {}),
    ),
  );

  app.delete<{ Params: KeyParams }>('/entities/:entity/:key', async (request) =>
    capture.delete(request.params.entity, request.params.key, writeOptions(request, {})),
  );

  app.post<{ Params: EntityParams }>('/entities/:entity/batch', async (request) => {
    const writes = batchWrites(request.params.entity, request.body, maxBatch);
    return {
      results: await capture.writeMany(request.params.entity, writes, writeOptions(request, {})),
    };
  });

  app.get<{ Params: KeyParams }>('/entities/:entity/:key', async (request) => {
    const { entity, key } = request.params;
    const value = await capture.get(entity, key);
    if (!value) throw new NotFoundError(entity, key);
    return value;
  });

  app.get<{ Params: EntityParams }>('/schemas/:entity', async (request) => {
    const versions = await capture.registry
      .versions(request.params.entity)
      .catch((err: unknown) => {
        throw commandFailure(err, 'the schema registry read');
      });
    if (versions.length === 0) throw new NotFoundError('schema', request.params.entity);
    return {
      versions: versions.map((v) => ({
        id: v.id,
        version: v.version,
        fingerprint: v.fingerprint,
        schema: JSON.parse(v.schema),
      })),
    };
  });

  if (options.dashboard) {
    registerDashboard(app, capture.keys, metrics, options.dashboard, Boolean(options.token));
  }

  app.get('/healthz', async (_request, reply) => {
    try {
      await capture.ping();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', message: 'Redis is unreachable' });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });

  return app;
}

/** One value of a request header (the first, when it was sent more than once). */
function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// Built on every write's path: no closure per request, and the object is made once.
function writeOptions<T extends WriteOptions>(request: FastifyRequest, options: T): T {
  const query = request.query as Record<string, string | undefined>;
  const mode = query.mode ?? headerValue(request, 'x-write-mode');
  if (mode !== undefined) {
    if (mode !== 'behind' && mode !== 'through') {
      throw new ValidationError('request', [
        { path: 'mode', message: `must be "behind" or "through", got "${mode}"` },
      ]);
    }
    options.mode = mode as WriteMode;
  }
  const idempotencyKey = headerValue(request, 'idempotency-key');
  if (idempotencyKey) options.idempotencyKey = idempotencyKey;
  const traceId = headerValue(request, 'x-trace-id');
  if (traceId) options.traceId = traceId;
  const timeout = headerValue(request, 'x-timeout-ms');
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms <= 0 || ms > 300_000) {
      throw new ValidationError('request', [
        { path: 'X-Timeout-Ms', message: 'must be an integer from 1 to 300000' },
      ]);
    }
    options.timeoutMs = ms;
  }
  return options;
}

/** Accepts `{ "writes": [...] }` or a bare array of `{ op, record }` / `{ op: "delete", key }`. */
function batchWrites(entity: string, body: unknown, maxBatch: number): BatchWrite[] {
  const list = Array.isArray(body) ? body : (body as { writes?: unknown } | null)?.writes;
  if (!Array.isArray(list)) {
    throw new ValidationError(entity, [
      { path: '', message: 'expected { "writes": [ ... ] } or an array of writes' },
    ]);
  }
  if (list.length === 0 || list.length > maxBatch) {
    throw new ValidationError(entity, [
      { path: '', message: `a batch holds 1 to ${maxBatch} writes, got ${list.length}` },
    ]);
  }
  return list.map((item, i): BatchWrite => {
    const write = item as {
      op?: unknown;
      record?: unknown;
      key?: unknown;
      idempotencyKey?: unknown;
    };
    const idempotencyKey =
      typeof write?.idempotencyKey === 'string' ? write.idempotencyKey : undefined;
    if (write?.op === 'upsert' || (write?.op === undefined && write?.record !== undefined)) {
      return { op: 'upsert', record: write.record, ...(idempotencyKey ? { idempotencyKey } : {}) };
    }
    if (write?.op === 'delete' && typeof write.key === 'string') {
      return { op: 'delete', key: write.key, ...(idempotencyKey ? { idempotencyKey } : {}) };
    }
    throw new ValidationError(entity, [
      {
        path: `[${i}]`,
        message: 'expected { "op": "upsert", "record": {...} } or { "op": "delete", "key": "..." }',
      },
    ]);
  });
}
