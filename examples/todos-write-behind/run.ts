/**
 * The write-behind walkthrough in one command: a todo written to Redis reaches MongoDB
 * asynchronously.
 *
 *   npm run example:todos
 *
 * Starts the servers it needs when they are not up, runs the capture service and the MongoDB
 * sink as child processes, PUTs the todo `test_id`, prints the answer (given once the event is
 * in the log), polls MongoDB until the sink has written the document, prints it and stops the
 * services. Exit code 0 on success, 1 with the reason otherwise.
 *
 * Environment: REDIS_URL and MONGO_URL as for the services (the database of MONGO_URL is
 * replaced); EXAMPLE_PREFIX (Redis key prefix, default the config's `example-todos`) and
 * EXAMPLE_MONGO_DB (default `example_todos`) keep its data apart from anything else.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { MongoClient } from 'mongodb';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { runExample } from '../support/example-main.ts';
import { getJson, sendJson, type WriteAnswer } from '../support/http.ts';
import { redactMongoUrl, withDatabase } from '../support/mongo-url.ts';
import { ensureServers } from '../support/servers.ts';
import {
  freePort,
  ServiceGroup,
  waitForCapture,
  waitForSink,
  waitUntil,
} from '../support/services.ts';

interface TodoDocument {
  _id: string;
  _v: string;
  _deleted: boolean;
  name: string;
  description: string | null;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const configPath = join(here, 'cdc.config.json');
const config = JSON.parse(await readFile(configPath, 'utf8')) as {
  prefix: string;
  entities: { todo: { partitions: number } };
};

const prefix = process.env.EXAMPLE_PREFIX || config.prefix;
const database = process.env.EXAMPLE_MONGO_DB || 'example_todos';
const mongoUrl = withDatabase(process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/cdc', database);
const todo = { id: 'test_id', name: 'some todo', description: 'some description' };

const services = new ServiceGroup(root);
let mongo: MongoClient | undefined;

await runExample(
  async () => {
    ensureServers(root, ['redis', 'mongo']);
    const common = {
      CDC_CONFIG: configPath,
      SCHEMAS_DIR: join(here, 'schema'),
      CDC_PREFIX: prefix,
    };

    const capturePort = await freePort();
    const base = `http://127.0.0.1:${capturePort}`;
    const capture = services.start('capture', { ...common, CAPTURE_PORT: String(capturePort) });
    await waitForCapture(base, capture);
    console.log(`== capture service on ${base}, Redis keys under ${prefix}:`);

    const sinkPort = await freePort();
    const sink = services.start('sink-mongo', {
      ...common,
      MONGO_URL: mongoUrl,
      SINK_ENTITIES: 'todo',
      SINK_METRICS_PORT: String(sinkPort),
    });
    await waitForSink(sinkPort, 'todo', config.entities.todo.partitions, sink);
    console.log(`== mongo sink: entity todo -> ${redactMongoUrl(mongoUrl)}, collection todos`);

    console.log(
      '\n# Write the todo to Redis (write-behind: answered once the event is in the log)',
    );
    const answer = await sendJson<WriteAnswer>('PUT', `${base}/entities/todo/${todo.id}`, todo);
    const answeredAt = performance.now();

    console.log('\n# Read it back from the Redis cache');
    await getJson(`${base}/entities/todo/${todo.id}`);

    console.log('\n# The sink copies it to MongoDB asynchronously: poll the todos collection');
    mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
    const todos = mongo.db().collection<TodoDocument>('todos');
    // `_v` is the id of the event that wrote the document: on a second run the document from the
    // first is already there, and only this write's version (or a newer one) counts.
    const version = encodeVersion(answer.id);
    const document = await waitUntil(
      `document ${todo.id} at version ${answer.id} in ${database}.todos`,
      async () => (await todos.findOne({ _id: todo.id, _v: { $gte: version } })) ?? undefined,
      { timeoutMs: 30_000, services: [sink] },
    );
    const ms = Math.round(performance.now() - answeredAt);
    console.log(`> use ${database}`);
    console.log(`> db.todos.findOne({ _id: '${todo.id}' })   // found ${ms} ms after the answer`);
    console.log(inspect(document, { depth: null }));

    if (document.name !== todo.name || document.description !== todo.description) {
      throw new Error(`the document does not hold the todo that was written: ${inspect(document)}`);
    }
  },
  async () => {
    await services.stopAll();
    await mongo?.close();
    console.log('\n== services stopped');
  },
);
