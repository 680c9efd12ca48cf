import type { Command } from 'commander';
import { ConfigError } from '../../../../runtime/errors/config-error.ts';
import { SchemaCompatibilityError } from '../../../../runtime/errors/schema-compatibility-error.ts';
import { UnknownEntityError } from '../../../../runtime/errors/unknown-entity-error.ts';
import {
  incompatibility,
  type RegisteredSchema,
  SchemaRegistry,
} from '../../../../runtime/schema/schema-registry.ts';
import type { CliContext, ContextOf } from '../cli-context.ts';
import { ExitCode } from '../exit-codes.ts';
import { readSchemaFile } from '../schema-file.ts';

/**
 * `cdc schemas`: the schema registry in Redis (runtime/schema/schema-registry.ts): list, show,
 * check a file against an entity's latest version, register it.
 */
export function schemasCommand(program: Command, context: ContextOf): void {
  const schemas = program
    .command('schemas')
    .description('the schema registry: list, show, check and register entity schemas');

  schemas
    .command('list')
    .description('every entity with registered schemas: its versions and the latest')
    .action(async () => {
      const cli = context();
      await cli.withRedis(async (redis, keys) => {
        const registry = new SchemaRegistry(redis, keys);
        const rows = [];
        for (const entity of await registry.entities()) {
          const versions = await registry.versions(entity);
          const latest = versions.at(-1);
          rows.push({
            entity,
            versions: versions.length,
            'latest version': latest?.version,
            'latest id': latest?.id,
            fingerprint: latest?.fingerprint.slice(0, 16),
          });
        }
        if (cli.json) cli.out.jsonValue({ schemas: rows });
        else if (rows.length === 0) cli.out.line('no schemas registered');
        else cli.out.table(rows);
      });
    });

  schemas
    .command('show <entity>')
    .description('an entity’s schema: the latest version, or --version N')
    .option('--version <n>', 'this version (1 is the first)')
    .action(async (entity: string, options: { version?: string }) => {
      const cli = context();
      const wanted = options.version === undefined ? undefined : Number(options.version);
      if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1))
        throw new ConfigError('--version takes a version number: 1, 2, …');
      await cli.withRedis(async (redis, keys) => {
        const registry = new SchemaRegistry(redis, keys);
        const versions = await registry.versions(entity);
        if (versions.length === 0) throw unknownEntity(entity);
        const found = wanted === undefined ? versions.at(-1) : versions[wanted - 1];
        if (!found)
          throw new ConfigError(
            `${entity} has no version ${wanted}: its versions are 1 to ${versions.length}`,
          );
        if (cli.json) cli.out.jsonValue(describe(found, versions.length));
        else {
          cli.out.line(
            `${entity} version ${found.version} of ${versions.length} (id ${found.id}, fingerprint ${found.fingerprint})`,
          );
          cli.out.line(JSON.stringify(JSON.parse(found.schema), null, 2));
        }
      });
    });

  schemas
    .command('check <file>')
    .description(
      `whether a schema file can follow its entity’s latest version (read data written with it), registering nothing; exit ${ExitCode.Incompatible} when not`,
    )
    .option('--entity <entity>', 'the entity (default: the file name without .avsc)')
    .action(async (path: string, options: { entity?: string }) => {
      const cli = context();
      const file = await readSchemaFile(path, options.entity);
      await cli.withRedis(async (redis, keys) => {
        const latest = await latestOf(new SchemaRegistry(redis, keys), file.entity);
        // The registry's own rule, without registering: the new schema must read the latest's data.
        const problem = incompatibility(file.type, latest);
        if (problem) {
          reportIncompatible(
            cli,
            new SchemaCompatibilityError(file.entity, problem.message, problem),
            latest,
          );
          return;
        }
        if (cli.json)
          cli.out.jsonValue({
            entity: file.entity,
            compatible: true,
            latestVersion: latest.version,
            latestId: latest.id,
          });
        else
          cli.out.line(
            `compatible: ${file.entity} can follow version ${latest.version} (id ${latest.id})`,
          );
      });
    });

  schemas
    .command('register <file>')
    .description(
      `register a schema file as its entity’s next version (checked as by check; nothing happens when it is the same schema as a registered version); exit ${ExitCode.Incompatible} when incompatible`,
    )
    .option('--entity <entity>', 'the entity (default: the file name without .avsc)')
    .action(async (path: string, options: { entity?: string }) => {
      const cli = context();
      const file = await readSchemaFile(path, options.entity);
      await cli.withRedis(async (redis, keys) => {
        const registry = new SchemaRegistry(redis, keys);
        const latest = await latestOf(registry, file.entity);
        const before = new Set((await registry.versions(file.entity)).map((v) => v.id));
        let registered: RegisteredSchema;
        try {
          registered = await registry.register(file.entity, file.schema);
        } catch (err) {
          if (!(err instanceof SchemaCompatibilityError)) throw err;
          reportIncompatible(cli, err, latest);
          return;
        }
        const created = !before.has(registered.id);
        if (cli.json)
          cli.out.jsonValue({
            entity: registered.entity,
            version: registered.version,
            id: registered.id,
            fingerprint: registered.fingerprint,
            created,
          });
        else
          cli.out.line(
            created
              ? `registered ${file.entity} version ${registered.version} (id ${registered.id})`
              : `already registered: ${file.entity} version ${registered.version} (id ${registered.id})`,
          );
      });
    });
}

/** The entity's latest version; an entity the registry does not know is a bad argument. */
async function latestOf(registry: SchemaRegistry, entity: string): Promise<RegisteredSchema> {
  try {
    return await registry.latest(entity);
  } catch (err) {
    if (err instanceof UnknownEntityError) throw unknownEntity(entity, err);
    throw err;
  }
}

function unknownEntity(entity: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `unknown entity "${entity}": the registry has no schema for it (capture registers an entity's first schema; name the file <entity>.avsc or give --entity)`,
    cause,
  );
}

function describe(schema: RegisteredSchema, versions: number) {
  return {
    entity: schema.entity,
    version: schema.version,
    versions,
    id: schema.id,
    fingerprint: schema.fingerprint,
    schema: JSON.parse(schema.schema) as unknown,
  };
}

/** The reason in one line (on stderr, with --json also as JSON on stdout), exit code 4. */
function reportIncompatible(
  cli: CliContext,
  err: SchemaCompatibilityError,
  latest: RegisteredSchema,
): void {
  if (cli.json)
    cli.out.jsonValue({
      entity: err.entity,
      compatible: false,
      latestVersion: latest.version,
      latestId: latest.id,
      reason: err.message,
    });
  console.error(`cdc: ${err.message.replace(/\s+/g, ' ')}`);
  process.exitCode = ExitCode.Incompatible;
}
