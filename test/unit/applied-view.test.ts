import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppliedView, type PendingWait } from '../../runtime/watermark/applied-view.ts';

function waitOn(view: AppliedView, id: string, log: string[]): PendingWait {
  const wait: PendingWait = { id, satisfied: () => log.push(id) };
  view.add(wait);
  return wait;
}

test('an advance settles the waits it covers, in order of id, and no others', () => {
  const view = new AppliedView();
  const log: string[] = [];
  waitOn(view, '5-0', log);
  waitOn(view, '2-0', log);
  waitOn(view, '9-1', log);
  waitOn(view, '3-7', log);
  assert.equal(view.waiting, 4);
  view.advance('4-0');
  assert.deepEqual(log, ['2-0', '3-7']);
  view.advance('9-0');
  assert.deepEqual(log, ['2-0', '3-7', '5-0']);
  view.advance('9-1');
  assert.deepEqual(log, ['2-0', '3-7', '5-0', '9-1']);
  assert.equal(view.waiting, 0);
});

test('the watermark never moves back; a wait it already covers is settled at once', () => {
  const view = new AppliedView();
  const log: string[] = [];
  assert.equal(view.known, false);
  view.advance('10-0');
  view.advance('7-0');
  assert.equal(view.known, true);
  assert.equal(view.covers('10-0'), true);
  assert.equal(view.covers('10-1'), false);
  waitOn(view, '8-0', log);
  assert.deepEqual(log, ['8-0']);
  assert.equal(view.waiting, 0);
});

test('a removed wait is never settled', () => {
  const view = new AppliedView();
  const log: string[] = [];
  const gone = waitOn(view, '2-0', log);
  waitOn(view, '3-0', log);
  view.remove(gone);
  view.advance('5-0');
  assert.deepEqual(log, ['3-0']);
});
