import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { incompatibleField } from '../../runtime/schema/incompatible-field.ts';

const record = (fields: unknown[]): avro.Type =>
  avro.Type.forSchema({ type: 'record', name: 'Todo', fields } as avro.Schema);

const writer = record([
  { name: 'id', type: 'string' },
  { name: 'name', type: 'string' },
  {
    name: 'owner',
    type: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'string' }] },
  },
]);

test('a field whose type changed is named', () => {
  const reader = record([
    { name: 'id', type: 'string' },
    { name: 'name', type: 'int' },
    {
      name: 'owner',
      type: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'string' }] },
    },
  ]);
  assert.equal(incompatibleField(reader, writer), 'name');
});

test('a nested field is named by its path', () => {
  const reader = record([
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    {
      name: 'owner',
      type: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'boolean' }] },
    },
  ]);
  assert.equal(incompatibleField(reader, writer), 'owner.email');
});

test('a new field without a default is named as such; with a default it is compatible', () => {
  const base = [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    {
      name: 'owner',
      type: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'string' }] },
    },
  ];
  assert.equal(
    incompatibleField(record([...base, { name: 'due', type: 'long' }]), writer),
    'due (added without a default)',
  );
  assert.equal(
    incompatibleField(record([...base, { name: 'due', type: 'long', default: 0 }]), writer),
    undefined,
  );
});

test('a field read through an alias of its old name resolves', () => {
  const reader = record([
    { name: 'id', type: 'string' },
    { name: 'title', type: 'string', aliases: ['name'] },
    {
      name: 'owner',
      type: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'string' }] },
    },
  ]);
  assert.equal(incompatibleField(reader, writer), undefined);
});

test('types that are not records have no field to name', () => {
  assert.equal(
    incompatibleField(avro.Type.forSchema('int'), avro.Type.forSchema('string')),
    undefined,
  );
});
