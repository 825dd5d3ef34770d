import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { declaredMetrics, sample, scrape } from '../support/metrics-text';
import { startFreshApp, type TestApp } from '../support/test-app';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const RULES_FILE = join(__dirname, '../../docker/prometheus/alerts.yaml');
// PromQL words that look like metric names.
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
]);

/** The metric names an expression reads: strings, label matchers, ranges and groupings removed. */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !KEYWORDS.has(m[1]))
    .map((m) => m[1]);
  return [...new Set(names)];
}

function rules(): Rule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((group) => group.rules);
}

/**
 * docker/prometheus/alerts.yaml only reads metrics a real process exports:
 * a worker, which has the reconcile gauges as well as what every role has.
 */
describe('metrics: alert rules', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startFreshApp({ PROXIMITY_ROLE: 'worker' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every rule is complete: expr, for, a severity label and a summary', () => {
    const all = rules();
    expect(all.length).toBeGreaterThan(0);
    for (const rule of all) {
      expect({ alert: rule.alert, expr: typeof rule.expr }).toEqual({
        alert: expect.stringMatching(/^Proximity[A-Za-z]+$/),
        expr: 'string',
      });
      expect({ alert: rule.alert, for: rule.for }).toEqual({
        alert: rule.alert,
        for: expect.stringMatching(/^\d+[smh]$/),
      });
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(info|warning|critical)$/),
      });
      expect({ alert: rule.alert, summary: rule.annotations?.summary }).toEqual({
        alert: rule.alert,
        summary: expect.any(String),
      });
    }
  });

  it("every metric an expression reads is exported by a worker's /metrics", async () => {
    const exported = declaredMetrics(await scrape(t));
    const used = rules().flatMap((rule) =>
      metricsOf(rule.expr ?? '').map((metric) => ({ alert: rule.alert, metric })),
    );
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter(({ metric }) => !exported.has(metric))).toEqual([]);
  });

  it('the expression parser finds metric names and nothing else', () => {
    expect(
      metricsOf(
        'sum by (queue) (rate(a_total{state=~"x|y"}[5m])) > 2 and on (host) b / ignoring (kind) c',
      ),
    ).toEqual(['a_total', 'b', 'c']);
    expect(metricsOf('time() - max(d) > 900')).toEqual(['d']);
  });

  it('proximity_ready follows what the readiness probe answered', async () => {
    expect((await t.http().get('/health/ready')).status).toBe(200);
    expect(sample(await scrape(t), 'proximity_ready')).toBe(1);
  });
});
