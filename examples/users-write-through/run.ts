/**
 * The write-through walkthrough in one command: users written through Redis to a PostgreSQL
 * table whose columns are named differently from the record's fields.
 *
 *   npm run example:users
 *
 * Starts the servers it needs when they are not up, runs the capture service and the PostgreSQL
 * sink as child processes, PUTs user 1 in write-through mode, prints the answer and, right after
 * it, the row (committed before the answer came), then PATCHes the username and prints the row
 * again. Exit code 0 on success, 1 with the reason otherwise.
 *
 * Environment: REDIS_URL and POSTGRES_URL as for the services; EXAMPLE_PREFIX (Redis key prefix,
 * default the config's `example-users`) and EXAMPLE_POSTGRES_SCHEMA (default the config's
 * `example_users`) keep its data apart from anything else.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { runExample } from '../support/example-main.ts';
import { sendJson, type WriteAnswer } from '../support/http.ts';
import { expandedRows } from '../support/psql-record.ts';
import { ensureServers } from '../support/servers.ts';
import { freePort, ServiceGroup, waitForCapture, waitForSink } from '../support/services.ts';

/** A row of the users table as selected below (dates as PostgreSQL prints them). */
interface UserRow extends Record<string, unknown> {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  date_of_birth: string;
  created_at: string;
  updated_at: string;
  _cdc_ms: string;
  _cdc_seq: string;
  pg_typeof: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const configPath = join(here, 'cdc.config.json');
const config = JSON.parse(await readFile(configPath, 'utf8')) as {
  prefix: string;
  entities: { user: { partitions: number } };
  sinks: { postgres: { schema: string } };
};

const prefix = process.env.EXAMPLE_PREFIX || config.prefix;
const schema = process.env.EXAMPLE_POSTGRES_SCHEMA || config.sinks.postgres.schema;
const postgresUrl = process.env.POSTGRES_URL || 'postgres://cdc:cdc@127.0.0.1:5432/cdc';
const user = {
  id: 1,
  username: 'john',
  email: 'john@gmail.com',
  pwhash: createHash('sha256').update('s3cret-password').digest('hex'),
  first: 'John',
  last: 'Doe',
  dob: '1990-01-01',
  created_at: '2023-04-20',
  updated_at: '2023-04-20',
};

// node-postgres turns `date` values into JavaScript Dates at local midnight; print them as
// PostgreSQL (and psql) writes them instead.
const DATE_OID = 1082;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const services = new ServiceGroup(root);
const db = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000, types });
// A connection the server drops (a restart) must fail the next query, not crash the example.
db.on('error', () => undefined);
let connected = false;

const select = `SELECT *, pg_typeof(date_of_birth) FROM ${schema}.users WHERE id = $1`;
/** psql's prompt: the database name. */
const prompt = `${decodeURIComponent(new URL(postgresUrl).pathname.slice(1)) || 'postgres'}=>`;

async function selectUser(): Promise<UserRow> {
  console.log(`${prompt} ${select.replace('$1', String(user.id))};`);
  const { rows } = await db.query<UserRow>(select, [user.id]);
  console.log(expandedRows(rows));
  const row = rows[0];
  if (!row) throw new Error(`no row with id ${user.id} in ${schema}.users`);
  return row;
}

/** The row must hold the event the answer named, or a later one. */
function checkVersion(row: UserRow, answer: WriteAnswer): void {
  const version = `${row._cdc_ms}-${row._cdc_seq}`;
  if (compareStreamIds(version, answer.id) < 0) {
    throw new Error(
      `the row is at version ${version}, older than the event ${answer.id} the write-through answer confirmed`,
    );
  }
}

await runExample(
  async () => {
    ensureServers(root, ['redis', 'postgres']);
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
    const sink = services.start('sink-postgres', {
      ...common,
      POSTGRES_URL: postgresUrl,
      POSTGRES_SCHEMA: schema,
      SINK_NAME: 'postgres',
      SINK_ENTITIES: 'user',
      SINK_METRICS_PORT: String(sinkPort),
    });
    await waitForSink(sinkPort, 'user', config.entities.user.partitions, sink);
    console.log(`== postgres sink: entity user -> table ${schema}.users`);

    await db.connect();
    connected = true;
    const url = `${base}/entities/user/${user.id}`;
    const through = { 'X-Write-Mode': 'through' };

    console.log('\n# Write user 1 through to PostgreSQL (answered once the sink committed it)');
    const created = await sendJson<WriteAnswer>('PUT', url, user, through);
    console.log('\n# Right after the answer, without waiting: the row is there');
    const first = await selectUser();
    checkVersion(first, created);
    if (first.username !== user.username) {
      throw new Error(`username is "${first.username}" right after the write-through answer`);
    }

    console.log('\n# Change the username only (write-through again)');
    const patched = await sendJson<WriteAnswer>('PATCH', url, { username: 'bar' }, through);
    console.log('');
    const second = await selectUser();
    checkVersion(second, patched);
    const expected: Partial<UserRow> = {
      username: 'bar',
      email: first.email,
      password_hash: first.password_hash,
      first_name: first.first_name,
      last_name: first.last_name,
      date_of_birth: user.dob,
      created_at: user.created_at,
      updated_at: user.updated_at,
      pg_typeof: 'date',
    };
    for (const [column, value] of Object.entries(expected)) {
      if (second[column] !== value) {
        throw new Error(`${column} is ${JSON.stringify(second[column])}, expected "${value}"`);
      }
    }
  },
  async () => {
    await services.stopAll();
    if (connected) await db.end();
    console.log('\n== services stopped');
  },
);
