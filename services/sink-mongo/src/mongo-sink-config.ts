import { type Env, envBoolean, envInteger, envString } from '../../../runtime/config/env.ts';
import type { ProjectConfig } from '../../../runtime/config/project-config.ts';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { DEFAULT_WRITE_CONCURRENCY, type MongoSinkOptions } from './mongo-sink-options.ts';

/** Keys a `sinks.<name>` section of the project file may hold (the URL comes from MONGO_URL). */
const SECTION_KEYS = new Set<string>([
  'collections',
  'offsetsCollection',
  'transactions',
  'serverSelectionTimeoutMS',
  'connectTimeoutMS',
  'socketTimeoutMS',
  'writeConcurrency',
  'maxPoolSize',
]);

/**
 * The sink's options from the environment and the project file: `MONGO_URL` (default
 * `mongodb://127.0.0.1:27017/cdc`), `SINK_NAME` (default `mongo`), `MONGO_TRANSACTIONS` and
 * `MONGO_WRITE_CONCURRENCY` (override the file), and the file's `sinks.<SINK_NAME>` section, or `sinks.mongo` when there is
 * none, for the rest. The URL is not read from the file, which is often committed: credentials
 * belong in the environment. Unknown keys in the section are rejected, so a typo is not ignored.
 */
export function mongoSinkOptionsFromConfig(
  env: Env,
  config: Pick<ProjectConfig, 'sinks'>,
): MongoSinkOptions {
  const name = envString(env, 'SINK_NAME', 'mongo');
  const sectionName = name in config.sinks ? name : 'mongo';
  const section = config.sinks[sectionName] ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new ConfigError(`sinks.${sectionName} in the config file must be an object`);
  }
  for (const key of Object.keys(section)) {
    if (!SECTION_KEYS.has(key)) {
      throw new ConfigError(
        `sinks.${sectionName}.${key} is not a mongo sink option (${[...SECTION_KEYS].join(', ')}; the URL comes from MONGO_URL)`,
      );
    }
  }
  const fromFile = section as Omit<MongoSinkOptions, 'url' | 'name'>;
  return {
    ...fromFile,
    url: envString(env, 'MONGO_URL', 'mongodb://127.0.0.1:27017/cdc'),
    name,
    transactions: envBoolean(env, 'MONGO_TRANSACTIONS', fromFile.transactions ?? false),
    writeConcurrency: envInteger(
      env,
      'MONGO_WRITE_CONCURRENCY',
      fromFile.writeConcurrency ?? DEFAULT_WRITE_CONCURRENCY,
      1,
    ),
  };
}
