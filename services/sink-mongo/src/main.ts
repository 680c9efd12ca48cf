import { envString } from '../../../runtime/config/env.ts';
import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { runServiceMain } from '../../../runtime/service/run-service-main.ts';
import { runSinkService, sinkServiceLogger } from '../../../runtime/sink/run-sink-service.ts';
import { MongoSink } from './mongo-sink.ts';
import { mongoSinkOptionsFromConfig } from './mongo-sink-config.ts';
import { redactMongoUrl } from './mongo-sink-options.ts';

/**
 * The MongoDB sink service. Environment: MONGO_URL (database from its path, default
 * `mongodb://127.0.0.1:27017/cdc`), SINK_NAME (default `mongo`), MONGO_TRANSACTIONS, CDC_CONFIG
 * (its `sinks.<SINK_NAME>` or `sinks.mongo` section: collections, offsetsCollection,
 * transactions, timeouts), plus the runner's variables (see runtime/sink/run-sink-service.ts).
 * A start that fails ends the process with one log line and a documented exit code
 * (runtime/service).
 */
const env = process.env;
const logger = sinkServiceLogger(envString(env, 'SINK_NAME', 'mongo'), env);
await runServiceMain(logger, async () => {
  const config = await loadProjectConfig(env);
  const options = mongoSinkOptionsFromConfig(env, config);
  await runSinkService(new MongoSink(options), env, {
    prefix: config.prefix,
    ...(config.retention ? { retention: config.retention } : {}),
    logger,
    target: {
      where: `MongoDB at ${redactMongoUrl(options.url)}`,
      hint: 'check MONGO_URL and that MongoDB is up',
    },
  });
});
