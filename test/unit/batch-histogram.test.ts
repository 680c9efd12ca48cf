import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { BatchHistogram } from '../../runtime/instrumentation/batch-histogram.ts';

const buckets = [0.005, 0.01, 0.05, 0.1, 1, 5];

test('a batch histogram exports exactly what prom-client exports for the same observations', async () => {
  const expected = new Registry();
  const actual = new Registry();
  const reference = new Histogram({
    name: 'latency_seconds',
    help: 'Latency',
    labelNames: ['sink', 'entity'],
    buckets,
    registers: [expected],
  });
  const batch = new BatchHistogram({
    name: 'latency_seconds',
    help: 'Latency',
    labelNames: ['sink', 'entity'],
    buckets,
    registers: [actual],
  });
  // Values on, between, below and above the bounds, for two label sets.
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const entity of ['todo', 'user']) {
    const ms = [
      5,
      10,
      50,
      0,
      7000,
      ...Array.from({ length: 500 }, () => Math.round(random() * 2000)),
    ];
    for (const value of ms) reference.observe({ sink: 'pg', entity }, value / 1000);
    batch.observeMany({ sink: 'pg', entity }, ms.slice(0, 100), 1000);
    batch.observeMany({ sink: 'pg', entity }, ms.slice(100), 1000);
  }
  assert.equal(await actual.metrics(), await expected.metrics());
  batch.reset();
  assert.doesNotMatch(await actual.metrics(), /_count/);
});

test('unknown labels and unordered buckets are refused', () => {
  const registers = [new Registry()];
  const h = new BatchHistogram({ name: 'h', help: 'h', labelNames: ['sink'], buckets, registers });
  assert.throws(() => h.observeMany({ nope: 'x' }, [1]), /no label "nope"/);
  assert.throws(
    () => new BatchHistogram({ name: 'g', help: 'g', labelNames: [], buckets: [1, 1], registers }),
    /must ascend/,
  );
});
