/**
 * The raw baseline of the HTTP capture benchmark, run as a child process like the capture
 * service: a bare fastify route that XADDs the JSON body it was sent to one stream and answers
 * with the entry id. Same HTTP framework, same JSON body parsing, same Redis client as capture,
 * none of its work (validation, Avro, cache copy, Lua, partitions). Environment: REDIS_URL,
 * BARE_STREAM (the stream key), BARE_PORT.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const stream = process.env.BARE_STREAM ?? 'bench_bare:stream';
const app = Fastify();

app.put<{ Params: { entity: string; key: string } }>('/entities/:entity/:key', async (request) => {
  const id = await redis.xadd(stream, '*', 'd', JSON.stringify(request.body));
  return { id };
});
app.get('/healthz', async () => {
  await redis.ping();
  return { status: 'ok' };
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? '0') });
const stop = () => {
  void app.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
