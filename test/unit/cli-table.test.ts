import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { colourEnabled, paint, stateDecorator } from '../../services/cli/src/colors.ts';
import { snakeCase, snakeKeys } from '../../services/cli/src/json-keys.ts';
import { progressBar, progressLine } from '../../services/cli/src/progress-bar.ts';
import { displayWidth, formatTable } from '../../services/cli/src/table.ts';

describe('CLI table formatter', () => {
  test('columns are aligned under their header, numbers right-aligned, with no index column', () => {
    const text = formatTable([
      { sink: 'postgres', partition: 0, behind: 12345 },
      { sink: 'mongo', partition: 10, behind: 'unknown' },
    ]);
    assert.equal(
      text,
      [
        'sink      partition  behind',
        '--------  ---------  -------',
        'postgres          0  12345',
        'mongo            10  unknown',
      ].join('\n'),
    );
  });

  test('every key of any row is a column, in first-seen order; a missing cell is blank', () => {
    const lines = formatTable([{ a: 1 }, { b: 'x', a: 22 }]).split('\n');
    assert.deepEqual(lines, [' a  b', '--  -', ' 1', '22  x']);
  });

  test('no rows is no text', () => {
    assert.equal(formatTable([]), '');
  });

  test('coloured cells keep the columns aligned: escapes are not counted in widths', () => {
    const rows = [
      { sink: 'a', state: 'running', n: 1 },
      { sink: 'bbbbbb', state: 'stopped', n: 2 },
    ];
    const plain = formatTable(rows).split('\n');
    const coloured = formatTable(rows, { decorate: stateDecorator }).split('\n');
    assert.equal(coloured[2], plain[2]?.replace('running', paint('running', 'green')));
    assert.equal(coloured[3], plain[3]?.replace('stopped', paint('stopped', 'red')));
    assert.deepEqual(coloured.map(displayWidth), plain.map(displayWidth));
  });

  test('a cell with a line break stays on its line', () => {
    assert.equal(formatTable([{ error: 'one\ntwo' }]).split('\n')[2], 'one two');
  });

  test('colour only on a terminal, and never with NO_COLOR set', () => {
    assert.equal(colourEnabled({ isTTY: true }, {}), true);
    assert.equal(colourEnabled({ isTTY: false }, {}), false);
    assert.equal(colourEnabled({}, {}), false);
    assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '' }), true);
  });
});

describe('CLI JSON keys', () => {
  test('table columns and camelCase names become snake_case', () => {
    assert.equal(snakeCase('oldest unapplied (s)'), 'oldest_unapplied_s');
    assert.equal(snakeCase('kafkaSinks'), 'kafka_sinks');
    assert.equal(snakeCase('kafkaUnavailable'), 'kafka_unavailable');
    assert.equal(snakeCase('entries to read again'), 'entries_to_read_again');
    assert.equal(snakeCase('sink'), 'sink');
  });

  test('keys at every depth are converted, values are kept', () => {
    assert.deepEqual(
      snakeKeys({ kafkaSinks: [{ 'end offset': 3, topic: 'a b' }], bridges: [], n: 10n }),
      { kafka_sinks: [{ end_offset: 3, topic: 'a b' }], bridges: [], n: 10 },
    );
  });
});

describe('CLI replay progress', () => {
  test('the bar fills with the entries applied, the line says what is left', () => {
    const step = { done: 150, total: 300, caughtUpPartitions: 1, partitions: 2 };
    assert.equal(progressLine(step), '150/300 entries, 1/2 partitions caught up');
    assert.equal(
      progressBar(step),
      `[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  150/300 entries, 1/2 partitions caught up`,
    );
    assert.match(progressBar({ ...step, done: 300 }), /^\[#{30}\] 100% /);
    // Nothing to replay is done at once, not a division by zero.
    assert.match(progressBar({ done: 0, total: 0, caughtUpPartitions: 2, partitions: 2 }), /100%/);
  });
});
