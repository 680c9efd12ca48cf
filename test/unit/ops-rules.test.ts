import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { registerMonitorMetrics } from '../../runtime/monitor/monitor-metrics.ts';
import { PARTITION_STATES } from '../../runtime/monitor/partition-state.ts';
import { registerSinkMetrics } from '../../runtime/sink/sink-metrics.ts';
import { registerCaptureMetrics } from '../../services/capture/src/capture-metrics.ts';

const ops = (path: string) => readFileSync(new URL(`../../ops/${path}`, import.meta.url), 'utf8');

/** Every series name the project exports: the capture service's (monitor included) and the sinks'. */
async function exportedNames(): Promise<Set<string>> {
  const registry = new Registry();
  registerMonitorMetrics(() => undefined, registry);
  registerSinkMetrics(new Instrumentation(), registry);
  registerCaptureMetrics(new Instrumentation(), registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    // Histograms are queried through their series.
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
  }
  return names;
}

/** The project's metric names an expression uses (all start with `cdc_`). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(cdc_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

interface Rule {
  alert?: string;
  expr?: unknown;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; description?: string };
}

const rules = (): Rule[] =>
  (parse(ops('prometheus/cdc-alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
    (g) => g.rules,
  );

test('every alert rule is complete and its expression names only metrics the code exports', async () => {
  const exported = await exportedNames();
  const all = rules();
  assert.ok(all.length > 0);
  for (const rule of all) {
    assert.ok(rule.alert, 'every rule is an alert with a name');
    assert.equal(typeof rule.expr, 'string', `${rule.alert}: expr`);
    const used = metricsIn(rule.expr as string);
    assert.ok(used.length > 0, `${rule.alert} names a metric of the project`);
    for (const name of used)
      assert.ok(exported.has(name), `${rule.alert}: ${name} is not exported`);
    for (const [, state] of (rule.expr as string).matchAll(/state="([a-z]+)"/g)) {
      assert.ok(PARTITION_STATES.includes(state as never), `${rule.alert}: no state "${state}"`);
    }
    assert.ok(rule.labels?.severity, `${rule.alert}: severity`);
    assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
    if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, `${rule.alert}: for`);
  }
});

test('the alerts the operators asked for are there: stalled, lag, dead letters, trimmed unread entries', () => {
  const byMetric = (name: string) =>
    rules().filter((r) => metricsIn(String(r.expr)).includes(name));
  assert.ok(
    rules().some((r) => /state="stalled"/.test(String(r.expr))),
    'an alert on a stalled partition',
  );
  assert.ok(
    byMetric('cdc_sink_partition_lag_seconds').some((r) => /> \d+/.test(String(r.expr))),
    'an alert on lag over a number of seconds',
  );
  assert.ok(byMetric('cdc_sink_dead_letters').length > 0, 'an alert on dead letters growing');
  assert.ok(
    byMetric('cdc_sink_partition_retention_trimmed_unread').length > 0,
    'an alert on retention trimming unread entries',
  );
});

test('every Grafana panel queries only metrics the code exports', async () => {
  const exported = await exportedNames();
  const dashboard = JSON.parse(ops('grafana/cdc-dashboard.json')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ query: string }> };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const)),
    ...dashboard.templating.list.map((v) => ['variable', v.query] as const),
  ];
  assert.ok(exprs.length > 0);
  for (const [title, expr] of exprs) {
    const used = metricsIn(expr);
    assert.ok(used.length > 0, `${title} queries a metric of the project`);
    for (const name of used) assert.ok(exported.has(name), `${title}: ${name} is not exported`);
  }
});
