import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, reaches, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';
import { HOST_NAME, launch, openPage, review, submitLogin } from './browser';

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
    await submitLogin(page, BASE, owner.username, 'not-the-password');
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

    // Keyboard, on a fresh load: the first Tab reaches the skip link, which moves focus past the navigation.
    await page.reload();
    await page.getByRole('link', { name: 'Adminer' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');

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
    await submitLogin(page, BASE, owner.username, owner.password);
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
    await submitLogin(page, BASE, other.username, other.password);
    await page.waitForURL(`${BASE}/catalog`);
    await page.goto(`${BASE}/apps/${app.id}`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await page.getByText(app.hostname).count()).toBe(0);
    await review(page, 'not-found');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the app page follows a running operation every 2 s: type, step, attempt n of m, then the new status', async () => {
    // Slow Proxmox tasks, so the stop is still running while the page shows it.
    expect((await sim.control('POST', '/_sim/latency', { taskMs: 4000 })).status).toBe(200);
    const { page, errors } = await openPage(browser);
    try {
      await submitLogin(page, BASE, owner.username, owner.password);
      await page.waitForURL(`${BASE}/catalog`);
      const stop = await t
        .http()
        .post(`/api/apps/${app.id}/actions`)
        .set(bearer(owner))
        .send({ action: 'stop' });
      expect(stop.status).toBe(202);
      await page.goto(`${BASE}/apps/${app.id}`);
      const section = page.getByRole('region', { name: 'Operation in progress' });
      await section.getByText(/^stop · running( · step \w+)? · attempt 1 of \d+$/).waitFor();
      await section.getByRole('progressbar', { name: 'Progress' }).waitFor();
      await review(page, 'app-operation');
      // No reload: the page's polling brings the end of the stop.
      await page
        .getByRole('heading', { name: app.name })
        .getByText('stopped')
        .waitFor({ timeout: 30_000 });
      expect(await section.count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await sim.control('POST', '/_sim/latency', { taskMs: 10 });
      await page.context().close();
    }
    expect(
      (
        await t
          .http()
          .post(`/api/apps/${app.id}/actions`)
          .set(bearer(owner))
          .send({ action: 'start' })
      ).status,
    ).toBe(202);
    await reaches(t, owner, app.id, ['running']);
  });

  it('a session the API ends (password changed elsewhere) lands on the login page saying so', async () => {
    const user = await createUser(t, admin);
    const { page } = await openPage(browser);
    await submitLogin(page, BASE, user.username, user.password);
    await page.waitForURL(`${BASE}/catalog`);
    const changed = await t
      .http()
      .post('/api/auth/password')
      .set(bearer(user))
      .send({ currentPassword: user.password, newPassword: `${user.password}-new` });
    expect(changed.status).toBe(204);
    await page.getByRole('link', { name: 'My apps' }).click();
    await page.waitForURL(`${BASE}/login?next=%2Fapps`);
    await page.getByText('Your session has ended. Please log in again.').waitFor();
    await page.context().close();
  });

  it('logout revokes the refresh token the tab held', async () => {
    const { page } = await openPage(browser);
    await submitLogin(page, BASE, owner.username, owner.password);
    await page.waitForURL(`${BASE}/catalog`);
    const refreshToken = await page.evaluate<string | null>(
      `sessionStorage.getItem('proximity.refresh')`,
    );
    expect(refreshToken).toEqual(expect.any(String));
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${BASE}/login`);
    expect(await page.evaluate(`sessionStorage.getItem('proximity.refresh')`)).toBeNull();
    const refresh = await t.http().post('/api/auth/refresh').send({ refreshToken });
    expect(refresh.status).toBe(401);
    await page.context().close();
  });

  it('a locked-out login shows how long to wait', async () => {
    const user = await createUser(t, admin);
    // The lockout counts per username and address: these come from 127.0.0.1, like the browser.
    for (let i = 0; i < 5; i += 1) {
      await t
        .http()
        .post('/api/auth/login')
        .send({ username: user.username, password: 'wrong-password-0' });
    }
    const { page } = await openPage(browser);
    await submitLogin(page, BASE, user.username, user.password);
    await page
      .getByRole('alert')
      .getByText(/Too many failed attempts\. You can try again in \d+ min \d+ s\./)
      .waitFor();
    expect(await page.getByRole('button', { name: 'Log in' }).isDisabled()).toBe(true);
    await review(page, 'login-locked');
    await page.context().close();
  });

  it('deploy form: hostname checked as typed, a taken one refused before submit, then the app page follows the deploy', async () => {
    const { page, errors } = await openPage(browser);
    await submitLogin(page, BASE, owner.username, owner.password);
    await page.waitForURL(`${BASE}/catalog`);
    await page.goto(`${BASE}/catalog/whoami`);
    await page.getByRole('link', { name: 'Deploy whoami' }).click();
    await page.waitForURL(`${BASE}/catalog/whoami/deploy`);
    const hostname = page.getByLabel('Hostname');
    await hostname.fill('Bad_Name');
    await page.getByText('Lowercase letters only.').waitFor();
    expect(await page.getByRole('button', { name: 'Deploy' }).isDisabled()).toBe(true);
    await expect(page.getByLabel(/^Cores/).getAttribute('min')).resolves.toBe('1');
    await review(page, 'deploy');

    await hostname.fill(app.hostname);
    await page.getByText('This hostname is taken by another application.').waitFor();
    expect(await page.getByRole('button', { name: 'Deploy' }).isDisabled()).toBe(true);

    await hostname.fill('typed');
    await page.getByRole('textbox', { name: 'NAME', exact: true }).fill('from-the-form');
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(new RegExp(`^${BASE}/apps/[0-9a-f-]{36}$`));
    await page
      .getByRole('heading', { name: 'whoami' })
      .getByText('running')
      .waitFor({ timeout: 30_000 });
    const id = page.url().split('/').pop()!;
    const deployed = await t.http().get(`/api/apps/${id}`).set(bearer(owner));
    expect(deployed.body).toMatchObject({
      hostname: 'typed',
      environment: { NAME: 'from-the-form' },
    });
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
