import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { NotFoundError } from '../../../../runtime/errors/not-found-error.ts';
import type { Keys } from '../../../../runtime/keys.ts';
import type { PipelineMonitor } from '../../../../runtime/monitor/pipeline-monitor.ts';
import type { PipelineView } from '../../../../runtime/monitor/pipeline-view.ts';
import { requestQuarantineAction } from '../../../../runtime/monitor/quarantine-request.ts';
import { planReplay } from '../../../../runtime/monitor/replay-plan.ts';
import type { RedisClient } from '../../../../runtime/redis-client.ts';
import { quarantineBody, replayBody } from './dashboard-requests.ts';
import { readPageFiles } from './page-files.ts';

/** What the lag page's routes work with. */
export interface DashboardRoutesOptions {
  monitor: PipelineMonitor;
  /** The monitor's connection, for the operator requests. */
  redis: RedisClient;
  keys: Keys;
  /**
   * Whether the operator requests are offered: only when the capture service requires a token,
   * which every route but /healthz then checks (server.ts). Without one the page is read-only.
   */
  actions: boolean;
}

/**
 * The live lag page: `/dashboard` and its script and style, `/dashboard/view` (the monitor's
 * latest view as JSON), `/dashboard/events` (the same, pushed as server-sent events at every
 * sample), and, when actions are on, the replay and quarantine requests `cdc replay`,
 * `cdc redrive` and `cdc skip` make.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (
  app: FastifyInstance,
  options,
) => {
  const { monitor, redis, keys, actions } = options;
  // Read once, when the routes are registered: the files are static.
  const page = readPageFiles();
  // The page talks to no other origin and runs only its own script.
  const security = {
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const file = (reply: FastifyReply, type: string, body: string) =>
    reply.headers({ ...security, 'content-type': type, 'cache-control': 'no-cache' }).send(body);

  app.get('/dashboard', (_request, reply) => file(reply, 'text/html; charset=utf-8', page.html));
  app.get('/dashboard/dashboard.js', (_request, reply) =>
    file(reply, 'text/javascript; charset=utf-8', page.js),
  );
  app.get('/dashboard/dashboard.css', (_request, reply) =>
    file(reply, 'text/css; charset=utf-8', page.css),
  );

  const message = (view: PipelineView | undefined) => ({ actions, view: view ?? null });

  app.get('/dashboard/view', async () => message(monitor.latest()));

  // An event stream never ends by itself: closing the server ends them, or it would wait forever.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const raw of streams) raw.end();
  });

  app.get('/dashboard/events', (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (view: PipelineView | undefined) => {
      // JSON has no raw newline, so one `data:` line carries the whole message.
      raw.write(`event: view\ndata: ${JSON.stringify(message(view))}\n\n`);
    };
    send(monitor.latest());
    const unsubscribe = monitor.subscribe(send);
    streams.add(raw);
    request.raw.on('close', () => {
      unsubscribe();
      streams.delete(raw);
    });
  });

  app.post('/dashboard/replay', async (request, reply) => {
    if (!actions) return readOnly(reply);
    const body = replayBody(request.body);
    const rows = await planReplay(redis, keys, body);
    if (rows.length === 0) {
      throw new NotFoundError(
        'sink partitions',
        `${body.sink}${body.entity ? `/${body.entity}` : ''}`,
      );
    }
    return { dryRun: body.dryRun, partitions: rows };
  });

  for (const action of ['redrive', 'skip'] as const) {
    app.post(`/dashboard/quarantine/${action}`, async (request, reply) => {
      if (!actions) return readOnly(reply);
      const body = quarantineBody(request.body);
      const ok = await requestQuarantineAction(redis, keys, { ...body, action });
      if (!ok) throw new NotFoundError(`quarantined key of ${body.sink}`, body.key);
      return { requested: action, ...body };
    });
  }
};

function readOnly(reply: FastifyReply) {
  return reply.code(403).send({
    error: 'READ_ONLY',
    message:
      'the lag page is read-only: operator requests need the capture service to require a token (CAPTURE_TOKEN)',
  });
}
