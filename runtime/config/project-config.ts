import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { EntityOptions } from '../capture/capture-options.ts';
import { ConfigError } from '../errors/config-error.ts';
import { type RetentionPolicy, resolveRetentionPolicy } from '../retention/retention-policy.ts';
import { loadSchemaFiles } from '../schema/load-schema-files.ts';
import { type Env, envOptional, envString } from './env.ts';

/**
 * The project file (`CDC_CONFIG`, JSON) shared by the services. Every part is optional:
 *
 * ```json
 * {
 *   "prefix": "cdc",
 *   "schemasDir": "schemas",
 *   "entities": {
 *     "user": {
 *       "partitions": 8, "writeMode": "through", "requiredSinks": ["postgres"],
 *       "retention": { "minAge": "24h", "keepExtra": 0, "maxHoldBack": "1h", "onHoldBack": "hold" }
 *     }
 *   },
 *   "sinks": { "postgres": { ... sink specific ... } }
 * }
 * ```
 * Without it, every `<entity>.avsc` in the schemas folder is captured with default options.
 */
export interface ProjectConfig {
  /** Redis key prefix. Default `cdc`, or `CDC_PREFIX`. */
  prefix: string;
  /** Entities with their schema loaded from `<schemasDir>/<entity>.avsc` when present. */
  entities: Record<string, EntityOptions>;
  /** Sink-specific sections, validated by each sink. */
  sinks: Record<string, unknown>;
  /**
   * Each entity's retention (its `retention` section, validated, defaults applied): what the
   * sink runners trim by themselves (see runtime/retention/retention-policy.ts). Always set by
   * loadProjectConfig; an entity missing from it gets the default policy.
   */
  retention?: Record<string, RetentionPolicy>;
}

/** An entity's section of the project file: the capture's options and its retention. */
type EntitySection = EntityOptions & { retention?: unknown };

interface ProjectFile {
  prefix?: string;
  schemasDir?: string;
  entities?: Record<string, EntitySection>;
  sinks?: Record<string, unknown>;
}

export async function loadProjectConfig(env: Env): Promise<ProjectConfig> {
  const path = envOptional(env, 'CDC_CONFIG');
  let file: ProjectFile = {};
  if (path) {
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as ProjectFile;
    } catch (err) {
      throw new ConfigError(
        `cannot read the config file CDC_CONFIG="${path}": ${(err as Error).message}`,
        err,
      );
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError(`config file ${path} must hold a JSON object`);
    }
  }
  // SCHEMAS_DIR is relative to the working directory, the file's schemasDir to the file itself.
  const fromEnv = envOptional(env, 'SCHEMAS_DIR');
  const schemasDir = fromEnv
    ? resolve(fromEnv)
    : path && file.schemasDir
      ? resolve(dirname(path), file.schemasDir)
      : resolve('schemas');
  const schemas = await loadSchemaFiles(schemasDir);
  const entities: Record<string, EntityOptions> = {};
  const retention: Record<string, RetentionPolicy> = {};
  const names = file.entities ? Object.keys(file.entities) : [...schemas.keys()];
  for (const name of names) {
    // Retention is the sinks' concern: the capture gets its own options only.
    const { retention: policy, ...options } = file.entities?.[name] ?? {};
    retention[name] = resolveRetentionPolicy(`entities.${name}`, policy);
    const schema = options.schema ?? schemas.get(name);
    entities[name] = schema ? { ...options, schema } : options;
  }
  return {
    prefix: envString(env, 'CDC_PREFIX', file.prefix ?? 'cdc'),
    entities,
    sinks: file.sinks ?? {},
    retention,
  };
}
