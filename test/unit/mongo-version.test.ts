import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStreamIds } from '../../runtime/stream-id.ts';
import { encodeVersion, isNewerVersion } from '../../services/sink-mongo/src/mongo-version.ts';

test('a version is the stream id with both parts zero-padded to 20 digits', () => {
  assert.equal(encodeVersion('1700000000000-5'), '00000001700000000000-00000000000000000005');
  assert.equal(encodeVersion('0-0'), '00000000000000000000-00000000000000000000');
  assert.equal(
    encodeVersion('18446744073709551615-18446744073709551615'),
    '18446744073709551615-18446744073709551615',
  );
});

test('versions compare as strings the way stream ids compare as numbers', () => {
  const ids = [
    '9-0',
    '10-0',
    '10-2',
    '10-10',
    '99-99',
    '100-0',
    '1700000000000-5',
    '1700000000001-0',
  ];
  for (const a of ids) {
    for (const b of ids) {
      const byString = Math.sign(encodeVersion(a).localeCompare(encodeVersion(b), 'en'));
      const byBytes =
        encodeVersion(a) < encodeVersion(b) ? -1 : encodeVersion(a) > encodeVersion(b) ? 1 : 0;
      assert.equal(byBytes, Math.sign(compareStreamIds(a, b)), `${a} vs ${b}`);
      assert.equal(byString, byBytes, `${a} vs ${b} under a locale collation`);
    }
  }
});

test('only a strictly newer version replaces a stored one', () => {
  assert.equal(isNewerVersion(encodeVersion('10-0'), undefined), true);
  assert.equal(isNewerVersion(encodeVersion('10-0'), encodeVersion('9-9')), true);
  assert.equal(isNewerVersion(encodeVersion('10-0'), encodeVersion('10-0')), false);
  assert.equal(isNewerVersion(encodeVersion('9-9'), encodeVersion('10-0')), false);
});

test('a malformed stream id has no version', () => {
  assert.throws(() => encodeVersion('12'), TypeError);
  assert.throws(() => encodeVersion('a-1'), TypeError);
});

test('leading zeros do not change a version', () => {
  assert.equal(encodeVersion('007-01'), encodeVersion('7-1'));
});
