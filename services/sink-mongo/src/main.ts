import { loadProjectConfig } from '../../../runtime/config/project-config.ts';
import { runSinkService } from '../../../runtime/sink/run-sink-service.ts';
import { MongoSink } from './mongo-sink.ts';
import { mongoSinkOptionsFromConfig } from './mongo-sink-config.ts';

/**
 * The MongoDB sink service. Environment: MONGO_URL (database from its path, default
 * `mongodb://127.0.0.1:27017/cdc`), SINK_NAME (default `mongo`), MONGO_TRANSACTIONS, CDC_CONFIG
 * (its `sinks.<SINK_NAME>` or `sinks.mongo` section: collections, offsetsCollection,
 * transactions, timeouts), plus the runner's variables (see runtime/sink/run-sink-service.ts).
 */
const env = process.env;
const config = await loadProjectConfig(env);
const sink = new MongoSink(mongoSinkOptionsFromConfig(env, config));
await runSinkService(sink, env, { prefix: config.prefix });
