/**
 * npm run bench:web — the UI's two budgets, measured on a fresh build:
 * - the gzipped JavaScript of the initial load (every script index.html loads), target ≤ 150 KB;
 * - the time My apps takes to show 100 apps, in Chromium, with the API answered by a stub so
 *   only the UI is measured (from choosing 100 per page to the 100th row in the page).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Route } from 'playwright-core';

const DIST = join(__dirname, '..', 'web', 'dist');
const ORIGIN = 'http://bench.proximity.test';
const TARGET_KB = 150;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

function initialScripts(): string[] {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const refs = [
    ...html.matchAll(/<(?:script|link rel="modulepreload")[^>]*(?:src|href)="\/([^"]+\.js)"/g),
  ];
  return refs.map(([, file]) => file);
}

function application(i: number): Record<string, unknown> {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    id,
    name: `app ${i}`,
    hostname: `app-${i}`,
    catalogId: 'whoami',
    status: i % 7 === 0 ? 'stopped' : 'running',
    hostId: id,
    node: 'pve1',
    vmid: 10_000 + i,
    ownerId: id,
    adopted: false,
    resources: { cores: 1, memoryMb: 512, diskGb: 4 },
    ports: [{ name: 'web', containerPort: 80, publicPort: 30_000 + i, protocol: 'tcp' }],
    url: `http://127.0.0.1:${30_000 + i}`,
    ipAddress: null,
    environment: {},
    operation: null,
    lastError: null,
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
  };
}

function stubApi(route: Route): Promise<void> {
  const url = new URL(route.request().url());
  const json = (body: unknown) =>
    route.fulfill({ contentType: 'application/json', body: JSON.stringify(body) });
  if (url.pathname === '/api/auth/refresh') {
    return json({
      accessToken: 'bench',
      refreshToken: 'bench',
      expiresIn: 900,
      user: {
        id: 'u',
        username: 'bench',
        role: 'user',
        disabled: false,
        createdAt: new Date(0).toISOString(),
      },
    });
  }
  if (url.pathname === '/api/apps') {
    const perPage = Number(url.searchParams.get('perPage') ?? 20);
    return json({
      items: Array.from({ length: perPage }, (_, i) => application(i + 1)),
      total: 100,
      page: 1,
      perPage,
    });
  }
  return route.fulfill({ status: 404, body: '' });
}

function serveBuild(route: Route): Promise<void> {
  const path = new URL(route.request().url()).pathname;
  const file = join(DIST, path);
  const found = path !== '/' && existsSync(file) ? file : join(DIST, 'index.html');
  return route.fulfill({
    contentType: TYPES[extname(found)] ?? 'application/octet-stream',
    body: readFileSync(found),
  });
}

async function renderHundred(): Promise<number> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route(`${ORIGIN}/**`, (route) =>
      new URL(route.request().url()).pathname.startsWith('/api/')
        ? stubApi(route)
        : serveBuild(route),
    );
    // A stored refresh token makes the UI restore a session (answered by the stub).
    await page.addInitScript("sessionStorage.setItem('proximity.refresh', 'bench')");
    await page.goto(`${ORIGIN}/apps`);
    await page.locator('table.apps tbody tr').nth(19).waitFor();
    const started = await page.evaluate(() => performance.now());
    await page.getByLabel('Per page').selectOption('100');
    await page.locator('table.apps tbody tr').nth(99).waitFor();
    return (await page.evaluate(() => performance.now())) - started;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'web:build'], { stdio: 'inherit' });
  const scripts = initialScripts();
  const gzipped = scripts.reduce(
    (sum, file) => sum + gzipSync(readFileSync(join(DIST, file))).length,
    0,
  );
  const kb = gzipped / 1024;
  console.log(
    `initial load: ${scripts.length} script(s), ${kb.toFixed(1)} KB gzipped (target ≤ ${TARGET_KB} KB)`,
  );
  const ms = await renderHundred();
  console.log(`My apps, 100 apps: ${ms.toFixed(0)} ms from choosing 100 per page to the 100th row`);
  if (kb > TARGET_KB) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
