import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProjectConfig } from '../../runtime/config/project-config.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';

const schema = { type: 'record', name: 'Thing', fields: [{ name: 'id', type: 'string' }] };

test("a config file's schemasDir is relative to the file, and every entity gets its schema", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cdc-config-'));
  try {
    await mkdir(join(dir, 'avro'));
    await writeFile(join(dir, 'avro', 'thing.avsc'), JSON.stringify(schema));
    await writeFile(
      join(dir, 'cdc.config.json'),
      JSON.stringify({
        prefix: 'p',
        schemasDir: 'avro',
        entities: { thing: { partitions: 2 } },
        sinks: { postgres: { schema: 's' } },
      }),
    );
    const config = await loadProjectConfig({ CDC_CONFIG: join(dir, 'cdc.config.json') });
    assert.equal(config.prefix, 'p');
    assert.deepEqual(config.entities.thing, { partitions: 2, schema });
    assert.deepEqual(config.sinks, { postgres: { schema: 's' } });
    const overridden = await loadProjectConfig({
      CDC_CONFIG: join(dir, 'cdc.config.json'),
      CDC_PREFIX: 'q',
    });
    assert.equal(overridden.prefix, 'q');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a config file that is missing or not JSON is a ConfigError naming it', async () => {
  await assert.rejects(
    loadProjectConfig({ CDC_CONFIG: 'no/such/file.json' }),
    (err: unknown) => err instanceof ConfigError && /no\/such\/file\.json/.test(err.message),
  );
});
