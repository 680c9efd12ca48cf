import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Capture } from '../../runtime/capture/capture.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import {
  buildCaptureServer,
  type CaptureServerOptions,
} from '../../services/capture/src/server.ts';
import { createTestRedisClient } from '../helpers/redis.ts';

/** A capture and its HTTP server on a key prefix of their own. */
export interface ServedCapture {
  app: FastifyInstance;
  capture: Capture;
  /** A separate connection to inspect Redis with. */
  redis: RedisClient;
  prefix: string;
}

/**
 * Opens a capture on a fresh key prefix (`open`, which may write with earlier captures first),
 * builds its HTTP server with `options` and waits until it is ready. When the test ends the
 * server and the capture are closed and the prefix's keys deleted, also after a failed start.
 */
export async function serveCapture(
  t: TestContext,
  label: string,
  open: (prefix: string) => Promise<Capture>,
  options: (prefix: string) => CaptureServerOptions,
): Promise<ServedCapture> {
  const ctx = await createTestRedisClient(label);
  const prefix = ctx.capturePrefix;
  let capture: Capture | undefined;
  let app: FastifyInstance | undefined;
  t.after(async () => {
    await app?.close();
    await capture?.close();
    await ctx.cleanup();
  });
  capture = await open(prefix);
  app = buildCaptureServer(capture, options(prefix));
  await app.ready();
  return { app, capture, redis: ctx.redis, prefix };
}
