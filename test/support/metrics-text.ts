import type { TestApp } from './test-app';

/** The Prometheus text exposition of the app's /metrics. */
export async function scrape(t: Pick<TestApp, 'http'>): Promise<string> {
  const res = await t.http().get('/metrics');
  expect(res.status).toBe(200);
  return res.text;
}

/** Names the exposition declares (its `# TYPE` lines), with or without a sample. */
export function declaredMetrics(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]),
  );
}

/** The value of the sample with exactly these labels; undefined when there is none. */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}
