import { startFreshApp, type TestApp } from '../support/test-app';

/** `a 'b' c; d e` → { a: ["'b'", 'c'], d: ['e'] } */
function directives(policy: string | undefined): Record<string, string[]> {
  expect(policy).toEqual(expect.any(String));
  return Object.fromEntries(
    String(policy)
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );
}

describe('security headers over plain HTTP (TLS is the reverse proxy’s job)', () => {
  let t: TestApp;

  // One trusted proxy hop, so a request can claim HTTPS the way a TLS-terminating proxy would.
  beforeAll(async () => {
    t = await startFreshApp({ TRUST_PROXY_HOPS: '1' }, 'headers');
  });
  afterAll(() => t?.close());

  it.each(['/', '/api/docs', '/api/docs/', '/api/docs-json', '/health/live'])(
    '%s: a strict policy that does not send the browser to HTTPS, and no HSTS',
    async (path) => {
      const res = await t.http().get(path).set('Host', 'proximity.lan:3000');
      const policy = directives(res.headers['content-security-policy']);
      expect(policy).not.toHaveProperty('upgrade-insecure-requests');
      expect(policy).not.toHaveProperty('block-all-mixed-content');
      expect(policy).toMatchObject({
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'object-src': ["'none'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'self'"],
        'form-action': ["'self'"],
      });
      // Nothing may be loaded from another origin, over HTTP or HTTPS.
      for (const values of Object.values(policy)) {
        expect(values.filter((v) => /^(https?:|\*)/.test(v))).toEqual([]);
      }
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    },
  );

  it('the docs page runs no inline script, and everything it loads is served by us', async () => {
    const page = await t.http().get('/api/docs/').set('Host', 'proximity.lan:3000');
    expect(page.status).toBe(200);
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\.\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    expect(page.text).not.toMatch(/\son[a-z]+\s*=/i); // inline handlers: script-src-attr 'none'
    const assets = [...page.text.matchAll(/\b(?:src|href)="\.\/([^"]+)"/g)].map(([, file]) => file);
    expect(assets).toEqual(expect.arrayContaining(['swagger-ui-init.js', 'swagger-ui.css']));
    for (const asset of assets) {
      const res = await t.http().get(`/api/docs/${asset}`).set('Host', 'proximity.lan:3000');
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
    }
  });

  it('sends HSTS only on a request that arrived over HTTPS through the trusted proxy', async () => {
    const viaTls = await t.http().get('/health/live').set('X-Forwarded-Proto', 'https');
    expect(viaTls.headers['strict-transport-security']).toBe('max-age=31536000');
    const plain = await t.http().get('/health/live').set('X-Forwarded-Proto', 'http');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });
});
