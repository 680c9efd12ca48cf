import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ValidationError } from '../../runtime/errors/validation-error.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import { prepareRecord } from '../../runtime/schema/prepare-record.ts';

const schema = (name: string) =>
  parseSchema(readFileSync(new URL(`../../schemas/${name}.avsc`, import.meta.url), 'utf8'));
const todo = schema('todo');
const user = schema('user');
/** A valid user but for the field a test sets. */
const base = {
  id: 1,
  username: 'u',
  email: 'e',
  password_hash: 'h',
  created_at: 0,
  updated_at: 0,
};

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return [...err.issues];
  }
  assert.fail('expected a ValidationError');
}

test('defaults are filled in for missing optional fields', () => {
  const record = prepareRecord('todo', todo, { id: 'a', name: 'n' });
  assert.deepEqual(record, {
    id: 'a',
    name: 'n',
    description: null,
    done: false,
    created_at: null,
    updated_at: null,
  });
});

test('dates and timestamps are accepted as ISO strings and kept in ISO form', () => {
  const record = prepareRecord('user', user, {
    id: 1,
    username: 'john',
    email: 'j@x',
    password_hash: 'h',
    date_of_birth: '1990-01-01',
    created_at: '2023-04-20T00:00:00Z',
    updated_at: 1681948800000,
  });
  assert.equal(record.date_of_birth, '1990-01-01');
  assert.equal(record.created_at, '2023-04-20T00:00:00.000Z');
  assert.equal(record.updated_at, '2023-04-20T00:00:00.000Z');
  const decoded = user.fromBuffer(user.toBuffer(record)) as Record<string, unknown>;
  assert.equal(decoded.date_of_birth, '1990-01-01');
  assert.equal(decoded.created_at, '2023-04-20T00:00:00.000Z');
});

test('every problem is reported with the path of its field', () => {
  const issues = issuesOf(() => prepareRecord('todo', todo, { id: 5, done: 'yes', colour: 'red' }));
  const paths = issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['colour', 'done', 'id', 'name']);
  assert.match(issues.find((i) => i.path === 'name')!.message, /is required/);
  assert.match(issues.find((i) => i.path === 'id')!.message, /expected string, got 5/);
  assert.match(issues.find((i) => i.path === 'colour')!.message, /not a field/);
});

test('impossible dates are refused', () => {
  const issues = issuesOf(() =>
    prepareRecord('user', user, { ...base, date_of_birth: '2023-02-31' }),
  );
  assert.equal(issues[0]?.path, 'date_of_birth');
  assert.match(issues[0]!.message, /YYYY-MM-DD/);
});

test('a non-object body is refused', () => {
  for (const input of [null, [], 'x', 3]) {
    assert.match(
      issuesOf(() => prepareRecord('todo', todo, input))[0]!.message,
      /expected a JSON object/,
    );
  }
});

test('a timestamp inside a nullable union is normalized to ISO as well', () => {
  const record = prepareRecord('todo', todo, {
    id: 'a',
    name: 'n',
    created_at: 1700000000000,
    updated_at: '2023-11-14T22:13:20Z',
  });
  assert.equal(record.created_at, '2023-11-14T22:13:20.000Z');
  assert.equal(record.updated_at, '2023-11-14T22:13:20.000Z');
  assert.equal(record.description, null);
});

test('an impossible timestamp is refused rather than rolled over', () => {
  assert.throws(
    () =>
      prepareRecord('todo', todo, { id: 'a', name: 'n', created_at: '2023-02-31T00:00:00.000Z' }),
    ValidationError,
  );
});

test('dates of the years 1 to 99 keep their year', () => {
  for (const date of ['0001-01-01', '0050-06-01', '0099-12-31']) {
    const record = prepareRecord('user', user, { ...base, date_of_birth: date });
    assert.equal(record.date_of_birth, date);
    const decoded = user.fromBuffer(user.toBuffer(record)) as Record<string, unknown>;
    assert.equal(decoded.date_of_birth, date);
  }
});

test('text with a lone surrogate is refused with its path; surrogate pairs are fine', () => {
  const issues = issuesOf(() => prepareRecord('todo', todo, { id: 'a', name: 'x\ud800y' }));
  assert.deepEqual(
    issues.map((i) => i.path),
    ['name'],
  );
  assert.match(issues[0]!.message, /lone surrogate/);
  const record = prepareRecord('todo', todo, { id: 'a', name: 'emoji 😀 ok' });
  assert.equal(record.name, 'emoji 😀 ok');
});

test('longs over the whole 64-bit range round-trip exactly, as numbers while safe', () => {
  const cases: Array<[unknown, number | bigint]> = [
    [-(2 ** 52) - 1, -(2 ** 52) - 1],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
    [9007199254740993n, 9007199254740993n],
    [2n ** 63n - 1n, 2n ** 63n - 1n],
    [-(2n ** 63n), -(2n ** 63n)],
    ['9223372036854775807', 2n ** 63n - 1n],
    ['-42', -42],
    // A BigInt within the safe range is the number it always was.
    [42n, 42],
  ];
  for (const [id, expected] of cases) {
    const record = prepareRecord('user', user, { ...base, id });
    assert.equal(record.id, expected, `record of ${String(id)}`);
    assert.equal((user.fromBuffer(user.toBuffer(record)) as { id: unknown }).id, expected);
  }
});

test('a long out of the 64-bit range is refused with the range, not as "not an integer"', () => {
  for (const id of [2n ** 63n, -(2n ** 63n) - 1n, '9223372036854775808', 1.5, 'seven']) {
    const issues = issuesOf(() => prepareRecord('user', user, { ...base, id }));
    assert.deepEqual(
      issues.map((i) => i.path),
      ['id'],
    );
    assert.match(
      issues[0]!.message,
      /^expected an integer from -9223372036854775808 to 9223372036854775807, got /,
    );
  }
  // A number beyond the safe range may already have lost digits: the message says how to send it.
  const [rounded] = issuesOf(() => prepareRecord('user', user, { ...base, id: 2 ** 60 }));
  assert.match(rounded!.message, /BigInt or a string/);
});

test('longs nested in unions, arrays and maps take BigInts and digit strings', () => {
  const type = parseSchema({
    type: 'record',
    name: 'Nested',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'maybe', type: ['null', 'long'], default: null },
      { name: 'list', type: { type: 'array', items: 'long' }, default: [] },
      { name: 'byName', type: { type: 'map', values: ['null', 'long'] }, default: {} },
      { name: 'either', type: ['null', 'string', 'long'], default: null },
    ],
  });
  const big = 2n ** 63n - 1n;
  const record = prepareRecord('nested', type, {
    id: 'a',
    maybe: String(big),
    list: [big, '-9223372036854775808', 7],
    byName: { a: big, b: null },
    // A union that takes strings keeps a string of digits a string.
    either: '123',
  });
  assert.deepEqual(record, {
    id: 'a',
    maybe: big,
    list: [big, -(2n ** 63n), 7],
    byName: { a: big, b: null },
    either: '123',
  });
  assert.deepEqual({ ...(type.fromBuffer(type.toBuffer(record)) as object) }, record);
  const issues = issuesOf(() =>
    prepareRecord('nested', type, { id: 'a', maybe: 2n ** 63n, list: ['x'] }),
  );
  assert.deepEqual(
    issues.map((i) => i.path),
    ['maybe', 'list.0'],
  );
  assert.match(issues[0]!.message, /-9223372036854775808 to 9223372036854775807/);
});
