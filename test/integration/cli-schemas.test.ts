import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Capture } from '../../runtime/capture/capture.ts';
import { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture, schemaFile } from '../support/capture-fixtures.ts';
import { runCdc } from '../support/cdc-cli.ts';

describe('cdc schemas: the registry from the command line', () => {
  let redisCtx: TestRedis;
  let capture: Capture;
  let dir: string;

  const cdc = (...args: string[]) => runCdc(redisCtx.capturePrefix, ...args);
  /** A schema file in the test's folder; its name says the entity, as in `schemas/`. */
  const file = async (name: string, content: unknown) => {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const todo = schemaFile('todo') as { fields: unknown[] };
  const withField = (field: Record<string, unknown>) => ({
    ...todo,
    fields: [...todo.fields, field],
  });

  before(async () => {
    redisCtx = await createTestRedis('cli_schemas');
    capture = await createTestCapture(redisCtx.capturePrefix, ['todo', 'user'], 1);
    dir = await mkdtemp(join(tmpdir(), 'cdc-schemas-'));
  });

  after(async () => {
    await capture.close();
    await redisCtx.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('list and show: what capture registered from schemas/', async () => {
    const list = await cdc('--json', 'schemas', 'list');
    assert.equal(list.code, 0, list.out);
    const { schemas } = JSON.parse(list.out) as {
      schemas: Array<{ entity: string; versions: number; latest_version: number }>;
    };
    assert.deepEqual(
      schemas.map((s) => [s.entity, s.versions, s.latest_version]),
      [
        ['todo', 1, 1],
        ['user', 1, 1],
      ],
    );
    const table = await cdc('schemas', 'list');
    assert.match(table.out, /^entity +versions +latest version +latest id +fingerprint\n/);

    const show = await cdc('--json', 'schemas', 'show', 'todo');
    assert.equal(show.code, 0, show.out);
    const shown = JSON.parse(show.out) as { version: number; schema: { name: string } };
    assert.equal(shown.version, 1);
    assert.equal(shown.schema.name, 'cdc.entities.Todo');
    assert.match((await cdc('schemas', 'show', 'todo')).out, /^todo version 1 of 1 \(id \d+/);
    const unknown = await cdc('schemas', 'show', 'ghost');
    assert.equal(unknown.code, 2);
    assert.match(unknown.out, /^cdc: unknown entity "ghost"/);
    assert.equal((await cdc('schemas', 'show', 'todo', '--version', '7')).code, 2);
  });

  test('check: a field added with a default is compatible, one without is not (exit 4 and the reason), and nothing is registered', async () => {
    const compatible = await file(
      'todo.avsc',
      withField({ name: 'priority', type: 'int', default: 0 }),
    );
    const ok = await cdc('schemas', 'check', compatible);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^compatible: todo can follow version 1/);

    const breaking = await file('breaking.avsc', withField({ name: 'owner', type: 'string' }));
    const refused = await cdc('schemas', 'check', breaking, '--entity', 'todo');
    assert.equal(refused.code, 4, refused.out);
    assert.match(refused.out, /^cdc: schema for todo is not backward compatible .*owner/);
    assert.equal(refused.out.trim().split('\n').length, 1, refused.out);
    const asJson = await cdc('--json', 'schemas', 'check', breaking, '--entity', 'todo');
    assert.equal(asJson.code, 4);
    const verdict = JSON.parse(asJson.out.split('\n')[0] ?? '') as Record<string, unknown>;
    assert.equal(verdict.compatible, false);
    assert.equal(verdict.latest_version, 1);

    const registry = new SchemaRegistry(redisCtx.redis, capture.keys);
    assert.equal((await registry.versions('todo')).length, 1);
  });

  test('bad files: not JSON, not Avro, not a record, unknown entity: one line and exit 2', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['todo.avsc', '{ "type": "record", ', /is not JSON/],
      [
        'todo.avsc',
        { type: 'record', name: 'T', fields: [{ name: 'x', type: 'nope' }] },
        /is not a valid Avro schema/,
      ],
      ['todo.avsc', { type: 'string' }, /must be an Avro record/],
      ['ghost.avsc', todo, /unknown entity "ghost"/],
    ];
    for (const [name, content, reason] of cases) {
      const path = await file(name, content);
      for (const command of ['check', 'register']) {
        const { code, out } = await cdc('schemas', command, path);
        assert.equal(code, 2, `${command} ${name}: ${out}`);
        assert.match(out, reason);
        assert.match(out, /^cdc: /);
        assert.equal(out.trim().split('\n').length, 1, out);
      }
    }
    const missing = await cdc('schemas', 'check', join(dir, 'none.avsc'));
    assert.equal(missing.code, 2);
  });

  test('register: a compatible schema becomes the next version, registering it again changes nothing, an incompatible one is refused', async () => {
    const next = await file('user.avsc', {
      ...(schemaFile('user') as { fields: unknown[] }),
      fields: [
        ...(schemaFile('user') as { fields: unknown[] }).fields,
        { name: 'nickname', type: ['null', 'string'], default: null },
      ],
    });
    const first = await cdc('schemas', 'register', next);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /^registered user version 2 \(id \d+\)/);
    const again = await cdc('--json', 'schemas', 'register', next);
    assert.equal(again.code, 0, again.out);
    const json = JSON.parse(again.out) as { version: number; created: boolean; id: number };
    assert.deepEqual([json.version, json.created], [2, false]);
    const registry = new SchemaRegistry(redisCtx.redis, capture.keys);
    assert.equal((await registry.latest('user')).id, json.id);

    const breaking = await file('user.avsc', {
      ...(schemaFile('user') as { fields: unknown[] }),
      fields: [
        ...(schemaFile('user') as { fields: unknown[] }).fields,
        { name: 'age', type: 'int' },
      ],
    });
    const refused = await cdc('schemas', 'register', breaking);
    assert.equal(refused.code, 4, refused.out);
    assert.equal((await registry.versions('user')).length, 2);
    assert.match(
      (await cdc('schemas', 'show', 'user', '--version', '1')).out,
      /^user version 1 of 2/,
    );
  });
});
