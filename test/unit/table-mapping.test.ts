import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import type { EntityTarget } from '../../runtime/sink/sink.ts';
import { mapTable, sqlTypeOf, toParam } from '../../services/sink-postgres/src/table-mapping.ts';

function target(entity: string, schema: object, keyField = 'id'): EntityTarget {
  const registered: RegisteredSchema = {
    id: 1,
    entity,
    version: 1,
    fingerprint: '',
    schema: JSON.stringify(schema),
    type: parseSchema(schema as never),
  };
  return { entity, schema: registered, keyField };
}

const user = target(
  'user',
  JSON.parse(readFileSync(new URL('../../schemas/user.avsc', import.meta.url), 'utf8')),
);

test('Avro types map to SQL types; [null, T] is a nullable T', () => {
  const type = (schema: unknown) => sqlTypeOf(parseSchema(JSON.stringify(schema)));
  assert.deepEqual(type('string'), { sqlType: 'text', nullable: false, kind: 'plain' });
  assert.deepEqual(type('long'), { sqlType: 'bigint', nullable: false, kind: 'plain' });
  assert.deepEqual(type(['null', 'int']), { sqlType: 'integer', nullable: true, kind: 'plain' });
  assert.deepEqual(type({ type: 'int', logicalType: 'date' }), {
    sqlType: 'date',
    nullable: false,
    kind: 'plain',
  });
  assert.deepEqual(type(['null', { type: 'long', logicalType: 'timestamp-millis' }]), {
    sqlType: 'timestamptz',
    nullable: true,
    kind: 'plain',
  });
  assert.deepEqual(type('bytes'), { sqlType: 'bytea', nullable: false, kind: 'bytes' });
  assert.deepEqual(type({ type: 'array', items: 'string' }), {
    sqlType: 'jsonb',
    nullable: false,
    kind: 'json',
  });
  assert.deepEqual(type(['string', 'int']), { sqlType: 'jsonb', nullable: false, kind: 'json' });
});

test('a table is derived from the schema with the key column first', () => {
  const m = mapTable(user, undefined, 'public');
  assert.equal(m.table, 'user');
  assert.equal(m.key.column, 'id');
  assert.equal(m.columns[0], m.key);
  assert.equal(m.columns.find((c) => c.field === 'date_of_birth')?.sqlType, 'date');
});

test('a field mapping renames columns and may set their type; unlisted fields keep their names', () => {
  const m = mapTable(
    user,
    {
      table: 'users',
      columns: { first_name: 'first', date_of_birth: { column: 'dob', type: 'date' } },
    },
    'public',
  );
  assert.equal(m.table, 'users');
  assert.equal(m.columns.find((c) => c.field === 'first_name')?.column, 'first');
  assert.deepEqual(
    (({ column, sqlType }) => ({ column, sqlType }))(
      m.columns.find((c) => c.field === 'date_of_birth')!,
    ),
    { column: 'dob', sqlType: 'date' },
  );
  assert.equal(m.columns.find((c) => c.field === 'email')?.column, 'email');
});

test('mappings that could inject SQL or do not fit the schema are configuration errors', () => {
  assert.throws(() => mapTable(user, { table: 'users; drop table x' }, 'public'), ConfigError);
  assert.throws(() => mapTable(user, { columns: { email: 'e"mail' } }, 'public'), ConfigError);
  assert.throws(
    () =>
      mapTable(user, { columns: { email: { column: 'email', type: 'text); drop' } } }, 'public'),
    ConfigError,
  );
  assert.throws(() => mapTable(user, { columns: { nope: 'x' } }, 'public'), /not a field/);
  assert.throws(
    () => mapTable(user, { columns: { email: 'username' } }, 'public'),
    /two fields to one column/,
  );
  assert.throws(
    () => mapTable(target('user', JSON.parse(user.schema.schema), 'missing'), undefined, 'public'),
    /no key field/,
  );
});

test('JSON columns get JSON text, everything else passes through, null stays null', () => {
  const json = {
    field: 'tags',
    column: 'tags',
    sqlType: 'jsonb',
    nullable: false,
    kind: 'json' as const,
  };
  const plain = {
    field: 'n',
    column: 'n',
    sqlType: 'text',
    nullable: true,
    kind: 'plain' as const,
  };
  assert.equal(toParam(json, ['a', 'b']), '["a","b"]');
  assert.equal(toParam(plain, 'x'), 'x');
  assert.equal(toParam(plain, undefined), null);
  assert.equal(toParam(json, null), null);
});
