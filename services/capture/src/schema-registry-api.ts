import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { SchemaNotFoundError } from '../../../runtime/errors/schema-not-found-error.ts';
import { defaultTopic } from '../../../runtime/kafka/kafka-message.ts';
import { valueSubject } from '../../../runtime/kafka/kafka-topics.ts';
import { commandFailure } from '../../../runtime/redis-errors.ts';
import { parseSchema } from '../../../runtime/schema/avro-schema.ts';
import {
  incompatibility,
  type RegisteredSchema,
  type SchemaRegistry,
} from '../../../runtime/schema/schema-registry.ts';
import { toHttpError } from './http-errors.ts';

/** Options of the Confluent-compatible registry API. */
export interface SchemaRegistryApiOptions {
  /** The registry served. */
  registry: SchemaRegistry;
  /**
   * The deployment's prefix (`CDC_PREFIX`): an entity without a configured topic is in
   * `<topicPrefix>.<entity>`. (Not `prefix`: Fastify takes that option as the routes' prefix.)
   */
  topicPrefix: string;
  /**
   * The Kafka topic of each entity, as the bridge names them (`resolveKafkaTopics` of its
   * section of the project file). Default: none, every entity in `<topicPrefix>.<entity>`.
   */
  topics?: ReadonlyMap<string, { topic: string }>;
}

/**
 * The Schema Registry's media type; it also accepts the unversioned one and plain JSON
 * (https://docs.confluent.io/platform/current/schema-registry/develop/api.html#content-types).
 */
export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const REQUEST_CONTENT_TYPES = [REGISTRY_CONTENT_TYPE, 'application/vnd.schemaregistry+json'];

/**
 * The registry's error codes and their HTTP status
 * (https://docs.confluent.io/platform/current/schema-registry/develop/api.html#errors): clients
 * branch on `error_code`, so these are the registry's own numbers, not the capture's codes.
 */
const REGISTRY_ERROR = {
  subjectNotFound: { status: 404, code: 40401 },
  versionNotFound: { status: 404, code: 40402 },
  schemaNotFound: { status: 404, code: 40403 },
  invalidSchema: { status: 422, code: 42201 },
  invalidVersion: { status: 422, code: 42202 },
} as const;

/** "Error in the backend data store": the registry's code for a store that cannot answer. */
const STORE_ERROR_CODE = 50001;

/** Ids and versions are Java ints in the registry's API: 1 to 2^31 - 1. */
const MAX_INT = 0x7fffffff;

/** An entity name as a subject may carry it: also what keeps a subject from addressing another key. */
const ENTITY_NAME = /^[A-Za-z0-9_-]{1,63}$/;

type SubjectParams = { subject: string };
type VersionParams = { subject: string; version: string };

/**
 * The read side of the Confluent Schema Registry REST API over the project's registry, so that
 * standard Kafka tooling decodes the bridge's messages (Confluent wire format, the writer schema's
 * id in this registry) with no project code:
 *
 * - `GET /schemas/ids/:id` — the schema with that id;
 * - `GET /subjects` — `<topic>-value` of every entity with a registered version (the subject of
 *   a topic's values under Confluent's default TopicNameStrategy);
 * - `GET /subjects/:subject/versions`, `GET /subjects/:subject/versions/:version|latest`;
 * - `POST /compatibility/subjects/:subject/versions/:version|latest` — whether a schema could
 *   follow that version under the project's own rule (it reads data written with it, as
 *   `register` checks), registering nothing.
 *
 * Schemas are registered only by capture, from the project's schema files: the write side of the
 * API is not served.
 */
export const schemaRegistryApi: FastifyPluginAsync<SchemaRegistryApiOptions> = async (
  app,
  options,
) => {
  const { registry, topicPrefix } = options;
  const topics = options.topics ?? new Map<string, { topic: string }>();

  const subjectOf = (entity: string): string =>
    valueSubject(topics.get(entity)?.topic ?? defaultTopic(topicPrefix, entity));

  /** The entity whose values a subject names, if the name can be one. */
  const entityOf = (subject: string): string | undefined => {
    for (const [entity, { topic }] of topics) if (valueSubject(topic) === subject) return entity;
    const head = `${topicPrefix}.`;
    const tail = valueSubject('');
    if (!subject.startsWith(head) || !subject.endsWith(tail)) return undefined;
    const entity = subject.slice(head.length, -tail.length);
    // A configured entity's values are under its configured topic only.
    return ENTITY_NAME.test(entity) && !topics.has(entity) ? entity : undefined;
  };

  /** Every version of the subject's entity, oldest first; none when the subject is unknown. */
  const versionsOf = async (subject: string): Promise<RegisteredSchema[]> => {
    const entity = entityOf(subject);
    if (entity === undefined) return [];
    return registry.versions(entity).catch((err: unknown) => {
      throw commandFailure(err, 'the schema registry read');
    });
  };

  // Encapsulated in this plugin: the capture's own routes keep their parsers. The registry takes
  // JSON only, so text/plain is refused (415) here rather than read as a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    REQUEST_CONTENT_TYPES,
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'ignore'),
  );

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-type', REGISTRY_CONTENT_TYPE);
    return payload;
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) request.log.error({ err }, 'schema registry request failed');
    // Outside the registry's own codes, its answers carry the HTTP status as the code (a 415 is
    // `{"error_code": 415}`), and a store that cannot answer is 50001.
    const code = status === 503 ? STORE_ERROR_CODE : status;
    void reply.code(status).send({ error_code: code, message: body.message });
  });

  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (request, reply) => {
    const id = positiveInt(request.params.id);
    if (id === undefined)
      return refuse(reply, 'schemaNotFound', `Schema ${request.params.id} not found`);
    const found = await registry.get(id).catch((err: unknown) => {
      if (err instanceof SchemaNotFoundError) return undefined;
      throw commandFailure(err, 'the schema registry read');
    });
    if (!found) return refuse(reply, 'schemaNotFound', `Schema ${id} not found`);
    // `schemaType` is left out for Avro, as the registry does: clients read its absence as AVRO.
    return { schema: found.schema };
  });

  app.get('/subjects', async () => {
    const entities = await registry.entities().catch((err: unknown) => {
      throw commandFailure(err, 'the schema registry read');
    });
    return entities.map(subjectOf).sort();
  });

  app.get<{ Params: SubjectParams }>('/subjects/:subject/versions', async (request, reply) => {
    const versions = await versionsOf(request.params.subject);
    if (versions.length === 0) return subjectNotFound(reply, request.params.subject);
    return versions.map((v) => v.version);
  });

  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version',
    async (request, reply) => {
      const { subject } = request.params;
      // The registry checks the version's form before looking the subject up.
      const version = parseVersion(request.params.version);
      if (version === undefined) return invalidVersion(reply, request.params.version);
      const versions = await versionsOf(subject);
      if (versions.length === 0) return subjectNotFound(reply, subject);
      const found = pick(versions, version);
      if (!found) return versionNotFound(reply, subject, version);
      return { subject, version: found.version, id: found.id, schema: found.schema };
    },
  );

  app.post<{ Params: VersionParams; Querystring: { verbose?: string } }>(
    '/compatibility/subjects/:subject/versions/:version',
    async (request, reply) => {
      const { subject } = request.params;
      // The registry looks the subject up first here, then the version, then reads the schema.
      const versions = await versionsOf(subject);
      if (versions.length === 0) return subjectNotFound(reply, subject);
      const version = parseVersion(request.params.version);
      if (version === undefined) return invalidVersion(reply, request.params.version);
      const writer = pick(versions, version);
      if (!writer) return versionNotFound(reply, subject, version);
      const schema = schemaOf(request.body);
      if (typeof schema !== 'string') return refuse(reply, 'invalidSchema', schema.problem);
      let reader: ReturnType<typeof parseSchema>;
      try {
        reader = parseSchema(schema, 'the schema');
      } catch (err) {
        if (err instanceof ConfigError) return refuse(reply, 'invalidSchema', err.message);
        throw err;
      }
      const problem = incompatibility(reader, writer);
      const answer: { is_compatible: boolean; messages?: string[] } = { is_compatible: !problem };
      // `?verbose=true` says why, as the registry does.
      if (request.query.verbose === 'true') answer.messages = problem ? [problem.message] : [];
      return answer;
    },
  );
};

function refuse(
  reply: FastifyReply,
  error: keyof typeof REGISTRY_ERROR,
  message: string,
): FastifyReply {
  const { status, code } = REGISTRY_ERROR[error];
  return reply.code(status).send({ error_code: code, message });
}

function subjectNotFound(reply: FastifyReply, subject: string): FastifyReply {
  return refuse(reply, 'subjectNotFound', `Subject '${subject}' not found.`);
}

function versionNotFound(reply: FastifyReply, subject: string, version: number | 'latest') {
  return refuse(reply, 'versionNotFound', `Version ${version} not found for subject '${subject}'.`);
}

function invalidVersion(reply: FastifyReply, version: string): FastifyReply {
  return refuse(
    reply,
    'invalidVersion',
    `The specified version '${version}' is not a valid version id. ` +
      'Allowed values are between [1, 2^31-1] and the string "latest"',
  );
}

/** A version id: `latest` (any case), or an integer from 1 to 2^31 - 1. */
function parseVersion(raw: string): number | 'latest' | undefined {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase() === 'latest') return 'latest';
  return positiveInt(trimmed);
}

function positiveInt(raw: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= 1 && value <= MAX_INT ? value : undefined;
}

function pick(
  versions: readonly RegisteredSchema[],
  version: number | 'latest',
): RegisteredSchema | undefined {
  return version === 'latest' ? versions.at(-1) : versions.find((v) => v.version === version);
}

/** The schema text of a `{"schema": "..."}` request, or what is wrong with the request. */
function schemaOf(body: unknown): string | { problem: string } {
  const request = body as { schema?: unknown; schemaType?: unknown; references?: unknown } | null;
  if (typeof request?.schema !== 'string')
    return { problem: 'the body must be {"schema": "<Avro schema JSON as a string>"}' };
  if (request.schemaType !== undefined && request.schemaType !== 'AVRO')
    return { problem: `only Avro schemas are registered here, not ${String(request.schemaType)}` };
  if (Array.isArray(request.references) && request.references.length > 0)
    return { problem: 'schema references are not supported: send the whole schema' };
  return request.schema;
}
