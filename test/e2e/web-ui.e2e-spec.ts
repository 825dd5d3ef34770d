import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFreshApp, type TestApp } from '../support/test-app';

const INDEX =
  '<!doctype html><title>Proximity</title><script type="module" src="/assets/index-abc123.js"></script>';
const STRICT_CSP =
  "default-src 'self';base-uri 'self';connect-src 'self';font-src 'self' data:;form-action 'self';" +
  "frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';" +
  "style-src 'self'";

/** A stand-in for `npm run web:build`'s output: the serving rules do not depend on what the UI is. */
function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'web-ui-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log("ui");');
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return root;
}

describe('the API serves the built web UI', () => {
  let t: TestApp;
  let root: string;

  beforeAll(async () => {
    root = fakeBuild();
    t = await startFreshApp({ WEB_ROOT: root });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each(['/', '/catalog', '/apps/6b1f7f3e-1a52-4a4e-9d8b-0b8d0c1f3a10', '/no/such/page'])(
    '%s answers index.html, never cached, so the UI’s router shows the page',
    async (path) => {
      const res = await t.http().get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.text).toBe(INDEX);
    },
  );

  it('serves hashed assets cached for a year, and a missing asset is a 404, not the page', async () => {
    const asset = await t.http().get('/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await t.http().get('/assets/index-gone999.js');
    expect(missing.status).toBe(404);
    expect(missing.text).not.toBe(INDEX);
  });

  it('serves other files of the build without long caching (their names do not change)', async () => {
    const icon = await t.http().get('/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it.each(['/', '/catalog', '/assets/index-abc123.js'])(
    '%s carries the strict CSP',
    async (path) => {
      const res = await t.http().get(path).set('Host', 'proximity.home.arpa:3000');
      expect(res.headers['content-security-policy']).toBe(STRICT_CSP);
    },
  );

  it('leaves the API alone: an unknown /api path keeps the JSON 404 envelope', async () => {
    for (const path of ['/api/nope', '/api', '/health/nope', '/metrics/nope']) {
      const res = await t.http().get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).toMatchObject({
        statusCode: 404,
        error: 'Not Found',
        requestId: expect.any(String),
      });
    }
  });

  it('leaves the API’s own pages alone: health, docs, catalog', async () => {
    expect((await t.http().get('/health/live')).status).toBe(200);
    expect((await t.http().get('/api/catalog')).body).toMatchObject({ items: expect.any(Array) });
    const docs = await t.http().get('/api/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).not.toBe(INDEX);
    // Swagger UI needs inline styles; only its pages get them.
    expect(docs.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
  });

  it('answers only reads: a POST to a page path is not the UI’s', async () => {
    const res = await t.http().post('/catalog').send({});
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404 });
  });
});

describe('without a built UI', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startFreshApp({ WEB_ROOT: join(tmpdir(), 'web-ui-never-built') });
  });
  afterAll(() => t?.close());

  it('/ says in plain words that the UI is not built, and the API still works', async () => {
    const res = await t.http().get('/');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('npm run web:build');
    expect((await t.http().get('/api/nope')).body).toMatchObject({ statusCode: 404 });
  });
});
