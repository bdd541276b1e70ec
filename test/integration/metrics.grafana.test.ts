import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { analyticsMetrics } from '@aiot/analytics';
import { bridgeMetrics } from '@aiot/bridge';
import { dashboardMetrics } from '@aiot/dashboard';
import { historyMetrics } from '@aiot/history';
import { inferenceMetrics } from '@aiot/inference';
import { ingestMetrics } from '@aiot/ingest';
import { messagingMetrics } from '@aiot/messaging';
import { AiotMetrics, type MetricSet } from '@aiot/observability';
import { REPO_ROOT } from '../support/brokers';
import { dashboardProblems, type GrafanaPanel } from '../support/grafana-dashboard';

/**
 * deploy/grafana/aiot-overview.json: valid dashboard JSON, every query valid PromQL (parsed with
 * the Prometheus project's own PromQL grammar, @prometheus-io/lezer-promql), and every metric a
 * query reads is one the services export (every feature's metric set, the platform's own and
 * prom-client's process metrics), so a
 * renamed metric breaks this test instead of silently emptying a panel.
 */
const FILE = path.join(REPO_ROOT, 'deploy/grafana/aiot-overview.json');

type Panel = GrafanaPanel;

/** Grafana's built-in variables are not PromQL; substitute what Grafana would. */
const grafanaToPromql = (expr: string) =>
  expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?/g, 'x');

/** Metric names a PromQL expression selects (vector selectors and `__name__` matchers). */
function metricNames(expr: string): { names: string[]; errors: string[] } {
  const tree = parser.parse(expr);
  const names: string[] = [];
  const errors: string[] = [];
  const c = tree.cursor();
  do {
    if (c.type.isError) errors.push(`syntax error at ${c.from}: "${expr.slice(Math.max(0, c.from - 10), c.to + 10)}"`);
    if (c.name === 'Identifier' && c.node.parent?.name === 'VectorSelector') names.push(expr.slice(c.from, c.to));
    if (c.name === 'LabelName' && expr.slice(c.from, c.to) === '__name__') {
      const value = c.node.parent?.getChild('StringLiteral');
      if (value) names.push(expr.slice(value.from + 1, value.to - 1));
    }
  } while (c.next());
  return { names, errors };
}

describe('Grafana dashboard deploy/grafana/aiot-overview.json', () => {
  const dash = JSON.parse(readFileSync(FILE, 'utf8')) as { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Array<{ name: string }> } };
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

  it('is a well-formed dashboard: uid, unique panel ids, non-overlapping grid, a Prometheus datasource variable', () => {
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboardProblems(panels, 'prometheus')).toEqual([]);
    expect(dash.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'floor']));
    expect(queries.length).toBeGreaterThan(20);
  });

  it('every query is valid PromQL and reads only metrics the services export', async () => {
    const metrics = new AiotMetrics({ defaultMetrics: true });
    const sets: Array<MetricSet<unknown>> = [bridgeMetrics, ingestMetrics, analyticsMetrics, inferenceMetrics, historyMetrics, dashboardMetrics, messagingMetrics];
    for (const set of sets) metrics.of(set);
    const registry = metrics.registry;
    const known = new Set<string>();
    for (const m of await registry.getMetricsAsJSON()) {
      known.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(m.name + s);
      if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) known.add(m.name + s);
    }
    const problems: string[] = [];
    const used = new Set<string>();
    for (const q of queries) {
      const { names, errors } = metricNames(grafanaToPromql(q.expr));
      for (const e of errors) problems.push(`${q.panel}: ${e}`);
      if (names.length === 0) problems.push(`${q.panel}: selects no metric: ${q.expr}`);
      for (const n of names) {
        used.add(n);
        if (!known.has(n)) problems.push(`${q.panel}: unknown metric ${n}`);
      }
    }
    expect(problems).toEqual([]);
    // the families each have a panel
    for (const family of [
      'aiot_ingest_messages_total',
      'aiot_bridge_messages_total',
      'aiot_dlq_messages_total',
      'aiot_bridge_batch_size_bucket',
      'aiot_ingest_batch_size_bucket',
      'aiot_kafka_consumer_lag',
      'aiot_analytics_windows_closed_total',
      'aiot_analytics_alerts_total',
      'aiot_inference_latency_seconds_bucket',
      'aiot_inference_batch_size_sum',
      'aiot_model_version_info',
      'process_cpu_seconds_total',
    ]) {
      expect([...used]).toContain(family);
    }
  });

  it('the checker catches an unknown metric and a syntax error', () => {
    expect(metricNames('sum(rate(aiot_nope_total[5m]))').names).toEqual(['aiot_nope_total']);
    expect(metricNames('{__name__="aiot_dlq_messages_total", floor="x"}').names).toEqual(['aiot_dlq_messages_total']);
    expect(metricNames('sum(rate(aiot_ingest_messages_total[5m])').errors.length).toBeGreaterThan(0);
  });
});
