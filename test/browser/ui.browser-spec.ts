import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';
import { HOST_NAME, launch, openPage, screenshots, seriousViolations } from './browser';

/** This file's share of the machine: the API's port, and the public ports of its apps. */
const API_PORT = 32_590;
const APP_PORTS: [number, number] = [32_500, 32_589];
const BASE = `http://${HOST_NAME}:${API_PORT}`;

describe('the web UI in Chromium, over plain HTTP by name, against the real API', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let browser: Browser;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let app: AppBody & { name: string };

  beforeAll(async () => {
    t = await startFreshApp();
    await t.app.listen(API_PORT, '127.0.0.1');
    sim = await SimulatorFixture.start();
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-browser', 680_000, APP_PORTS);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'shown' });
    expect(res.status).toBe(202);
    // The API answers the whole application; the helper's type names only what it reads.
    app = (await settled(t, owner, (res.body as AppBody).id)) as AppBody & { name: string };
    expect(app.status).toBe('running');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sim?.close();
  });

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${BASE}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  /** The screen is accessible and a reviewer gets its picture. */
  async function review(page: Page, name: string): Promise<void> {
    expect(await seriousViolations(page)).toEqual([]);
    await screenshots(page, name);
  }

  it('the built page runs no inline script or style (the CSP would block them)', () => {
    const html = readFileSync('web/dist/index.html', 'utf8');
    for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(attributes).toMatch(/\bsrc="\/assets\//);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it('login: a wrong password shows the API’s words; the right one lands on the catalog', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, owner.username, 'not-the-password');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(
      /invalid|incorrect|wrong/i,
    );
    await review(page, 'login-error');

    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${BASE}/catalog`);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('catalog: search narrows the cards; an app’s page lists its variables', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${BASE}/`);
    await page.waitForURL(`${BASE}/catalog`);
    await page.getByRole('link', { name: 'Adminer' }).waitFor();
    await review(page, 'catalog');

    await page.getByLabel('Search').fill('whoami');
    await page
      .getByRole('status')
      .filter({ hasText: /^1 app$/ })
      .waitFor();
    expect(await page.getByRole('link', { name: 'Adminer' }).count()).toBe(0);

    await page.getByRole('link', { name: 'whoami' }).click();
    await page.waitForURL(`${BASE}/catalog/whoami`);
    await page.getByRole('heading', { name: 'Variables' }).waitFor();
    await expect(page.getByRole('cell', { name: 'NAME', exact: true }).count()).resolves.toBe(1);
    await review(page, 'catalog-app');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('my apps: the deployed app is listed as running; its page shows a URL that answers', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, owner.username, owner.password);
    await page.waitForURL(`${BASE}/catalog`);
    await page.getByRole('link', { name: 'My apps' }).click();
    const row = page.getByRole('row').filter({ hasText: app.name });
    await row.getByText('running').waitFor();
    await review(page, 'my-apps');

    await row.getByRole('link', { name: app.name }).click();
    await page.waitForURL(`${BASE}/apps/${app.id}`);
    await page.getByRole('heading', { name: app.name }).getByText('running').waitFor();
    const link = page.getByRole('link', { name: app.url! });
    expect(await link.getAttribute('href')).toBe(app.url);
    expect((await fetch(app.url!)).status).toBe(200);
    await page.getByRole('heading', { name: 'Deployment log' }).waitFor();
    expect(await page.locator('.log li').count()).toBeGreaterThan(0);
    await review(page, 'app');

    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
    await review(page, 'account');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('another user opening that app’s address gets the 404 page', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, other.username, other.password);
    await page.waitForURL(`${BASE}/catalog`);
    await page.goto(`${BASE}/apps/${app.id}`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await page.getByText(app.hostname).count()).toBe(0);
    await review(page, 'not-found');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a page that needs a session sends a visitor to log in, then back to it', async () => {
    const { page } = await openPage(browser);
    await page.goto(`${BASE}/apps`);
    await page.waitForURL(`${BASE}/login?next=%2Fapps`);
    await page.getByLabel('Username').fill(ADMIN_USERNAME);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${BASE}/apps`);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await review(page, 'admin');
    await page.context().close();
  });
});
