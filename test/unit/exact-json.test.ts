import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  JsonTextError,
  mayHoldBigIntegers,
  parseExactJson,
  stringifyExactJson,
} from '../../runtime/schema/exact-json.ts';

test('integer literals beyond ±(2^53 - 1) are read as BigInts with every digit', () => {
  const text =
    '{"max": 9223372036854775807, "min": -9223372036854775808, "next": 9007199254740993, ' +
    '"edge": 9007199254740992, "safe": 9007199254740991, "list": [1, -12345678901234567890]}';
  assert.deepEqual(parseExactJson(text), {
    max: 9223372036854775807n,
    min: -9223372036854775808n,
    next: 9007199254740993n,
    edge: 9007199254740992n,
    safe: 9007199254740991,
    list: [1, -12345678901234567890n],
  });
});

test('every other value is what JSON.parse gives', () => {
  const texts = [
    '{"a": 1.5, "b": 1e400, "c": -0, "d": 12345678901234567890.5, "e": 1.2345678901234567e25}',
    '[true, false, null, "x\\"y\\\\z\\u00e9\\ud83d\\ude00", {"": {}}, [], 0.1, -3E-2]',
    '  "1234567890123456789"  ',
    '{"id": "9223372036854775807", "dup": 1, "dup": 2}',
    '1234567890123456',
  ];
  for (const value of texts) {
    // A 16-digit safe integer beside each sends it through the exact reader, not JSON.parse.
    const text = `[${value}, 1234567890123456]`;
    assert.ok(mayHoldBigIntegers(text));
    assert.deepEqual(parseExactJson(text), JSON.parse(text), text);
  }
});

test('texts that are not JSON are refused, whichever path reads them', () => {
  const bad = [
    '',
    '{',
    '{"a": 12345678901234567890',
    '{"a": 12345678901234567890,}',
    '[12345678901234567890 1]',
    '{"a": 012345678901234567890}',
    '{a: 12345678901234567890}',
    '"12345678901234567890',
    '12345678901234567890 x',
    '{"a": "tab\there", "b": 12345678901234567890}',
    '{"a": -, "b": 12345678901234567890}',
    '{"a": tru, "b": 12345678901234567890}',
  ];
  for (const text of bad) {
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse refuses ${text}`);
    assert.throws(() => parseExactJson(text), JsonTextError, text);
  }
});

test('keys that would reach the prototype are refused, as fastify refuses them', () => {
  assert.throws(
    () => parseExactJson('{"__proto__": {"x": 1}, "n": 12345678901234567890}'),
    /forbidden prototype property/,
  );
  assert.throws(
    () => parseExactJson('{"constructor": {"prototype": {}}, "n": 12345678901234567890}'),
    /forbidden prototype property/,
  );
  assert.deepEqual(parseExactJson('{"constructor": 1, "n": 12345678901234567890}'), {
    constructor: 1,
    n: 12345678901234567890n,
  });
});

test('a text nested deeper than the stack is refused, not crashed on', () => {
  const deep = `${'['.repeat(200_000)}12345678901234567890${']'.repeat(200_000)}`;
  assert.throws(() => parseExactJson(deep), JsonTextError);
});

test('BigInts are written as their digits; everything else as JSON.stringify writes it', () => {
  const value = {
    id: 9223372036854775807n,
    min: -9223372036854775808n,
    nested: { list: [1n, undefined, 2.5, 'x'], skipped: undefined },
    at: new Date(0),
    text: 'quote " and \u2028',
  };
  assert.equal(
    stringifyExactJson(value),
    '{"id":9223372036854775807,"min":-9223372036854775808,"nested":{"list":[1,null,2.5,"x"]},' +
      `"at":"1970-01-01T00:00:00.000Z","text":${JSON.stringify('quote " and \u2028')}}`,
  );
  for (const plain of [{ a: 1, b: [null, 'x'] }, 'text', 1.5, null, undefined]) {
    assert.equal(stringifyExactJson(plain), JSON.stringify(plain));
  }
  // What is written reads back the same.
  assert.deepEqual(parseExactJson(stringifyExactJson({ id: 2n ** 63n - 1n })!), {
    id: 2n ** 63n - 1n,
  });
});
