import type { Browser, Locator, Page } from 'playwright-core';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';
import { HOST_NAME, launch, logIn, openPage, review, WIDTHS } from './browser';

/** This file's share of the machine: the API's port, the public ports of its apps, its VMIDs. */
const API_PORT = 31_890;
const APP_PORTS: [number, number] = [31_850, 31_889];
const VMID_MIN = 683_000;
const BASE = `http://${HOST_NAME}:${API_PORT}`;

/** What a person reads in the element: its text with the source's line breaks collapsed. */
async function readText(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

describe('account, tokens, the deploy form and the catalog in Chromium, against the real API', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let browser: Browser;
  let admin: Session;
  let holder: Session;
  let held: AppBody;

  beforeAll(async () => {
    t = await startFreshApp();
    await t.app.listen(API_PORT, '127.0.0.1');
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    holder = await createUser(t, admin);
    const hostId = await registerDeployHost(t, admin, sim.sim, 'pve-account', VMID_MIN, APP_PORTS);
    // Placement lists the nodes a sync has read.
    const sync = await t.http().post(`/api/proxmox/hosts/${hostId}/sync`).set(bearer(admin));
    expect(sync.status).toBe(200);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(holder))
      .send({ catalogId: 'whoami', hostname: 'held-name' });
    expect(res.status).toBe(202);
    held = await settled(t, holder, (res.body as AppBody).id);
    expect(held.status).toBe('running');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sim?.close();
  });

  async function openAccount(page: Page): Promise<void> {
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
  }

  it('password change: a wrong current password shows the API’s words; the new one logs in, the old one no longer', async () => {
    const user = await createUser(t, admin);
    const newPassword = `${user.password}-changed`;
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, user.username, user.password);
    await openAccount(page);
    await expect(page.locator('.facts dd').allTextContents()).resolves.toEqual([
      user.username,
      'user',
    ]);
    await review(page, 'account');

    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByRole('textbox', { name: /^New password/ }).fill(newPassword);
    await page.getByLabel('Confirm the new password').fill(`${newPassword}x`);
    await page.getByText('The two new passwords differ.').waitFor();
    const change = page.getByRole('button', { name: 'Change password' });
    expect(await change.isDisabled()).toBe(true);
    await page.getByLabel('Confirm the new password').fill(newPassword);
    await change.click();
    const alert = page.getByRole('alert');
    await alert.getByText('currentPassword is wrong').waitFor();
    await review(page, 'account-password-wrong');

    await page.getByLabel('Current password').fill(user.password);
    await change.click();
    await page
      .getByRole('status')
      .getByText(/Your password is changed\./)
      .waitFor();
    expect(await alert.count()).toBe(0);
    await review(page, 'account-password-changed');
    // This tab logged in again with the new password: it still reads the API.
    await page.getByRole('link', { name: 'My apps' }).click();
    await page.getByRole('heading', { name: 'My apps' }).waitFor();
    expect(page.url()).toBe(`${BASE}/apps`);

    const fresh = await openPage(browser);
    await fresh.page.goto(`${BASE}/login`);
    await fresh.page.getByLabel('Username').fill(user.username);
    await fresh.page.getByLabel('Password').fill(user.password);
    await fresh.page.getByRole('button', { name: 'Log in' }).click();
    await fresh.page.getByRole('alert').getByText('Invalid username or password').waitFor();
    await fresh.page.getByLabel('Password').fill(newPassword);
    await fresh.page.getByRole('button', { name: 'Log in' }).click();
    await fresh.page.waitForURL(`${BASE}/catalog`);
    expect(fresh.errors).toEqual([]);
    await fresh.page.context().close();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a token is shown once with a copy button, listed without its secret, works, and answers 401 once revoked', async () => {
    const user = await createUser(t, admin);
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, user.username, user.password);
    await openAccount(page);
    await page.getByText('You have no tokens.').waitFor();

    await page.getByLabel('Token name').fill('backup script');
    await page.getByLabel('Access').selectOption('read');
    await page.getByLabel('Expires after (days)').fill('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    const notice = page.getByRole('region', { name: 'Token “backup script” created' });
    await notice.getByText('Copy it now: it will not be shown again.').waitFor();
    const token = await notice.getByLabel('Token').inputValue();
    expect(token.length).toBeGreaterThan(20);
    // Plain HTTP has no clipboard API: the copy button selects the token for Ctrl+C instead.
    await notice.getByRole('button', { name: 'Copy token' }).click();
    await notice.getByText(/the token is selected, press Ctrl\+C/).waitFor();
    expect(
      await page.evaluate(
        '(() => { const f = document.activeElement; return f.value.slice(f.selectionStart, f.selectionEnd); })()',
      ),
    ).toBe(token);
    await page.getByText('1 token', { exact: true }).waitFor();
    const row = page.getByRole('listitem').filter({ hasText: 'backup script' });
    await row.getByText('never used').waitFor();
    expect(await readText(row)).toMatch(/read only · expires .+ · never used/);
    await review(page, 'account-token-created');

    const asToken = () => t.http().get('/api/apps').set(bearer(token));
    expect((await asToken()).status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await notice.count()).toBe(0);
    expect(await page.getByText(token).count()).toBe(0);
    await page.reload();
    await row.getByText('last used', { exact: false }).waitFor();
    expect(await page.content()).not.toContain(token);

    await row.getByRole('button', { name: 'Revoke backup script…' }).click();
    const confirm = row.getByRole('group', { name: 'Revoke backup script?' });
    // Focus moves to Cancel, so a keyboard user is not thrown back to the page's start.
    expect(await page.evaluate('document.activeElement.textContent.trim()')).toBe('Cancel');
    await review(page, 'account-token-revoke');
    await confirm.getByRole('button', { name: 'Revoke backup script' }).click();
    await page.getByText('You have no tokens.').waitFor();
    expect((await asToken()).status).toBe(401);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('deploy form: a hostname another user holds shows taken as typed and disables Deploy; a bad label shows the rule; a free one shows available', async () => {
    const user = await createUser(t, admin);
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, user.username, user.password);
    await page.goto(`${BASE}/catalog/whoami/deploy`);
    const hostname = page.getByLabel('Hostname');
    const deploy = page.getByRole('button', { name: 'Deploy' });

    await hostname.fill(held.hostname);
    await page.getByText('This hostname is taken by another application.').waitFor();
    expect(await deploy.isDisabled()).toBe(true);
    expect(await hostname.getAttribute('aria-invalid')).toBe('true');
    // Nothing about who holds it.
    expect(await page.getByText(holder.username).count()).toBe(0);
    await review(page, 'deploy-hostname-taken');

    await hostname.fill('-starts-with-hyphen');
    await page.getByText('It cannot start or end with a hyphen.').waitFor();
    expect(await deploy.isDisabled()).toBe(true);

    await hostname.fill('free-name');
    await page.getByText('Available.').waitFor();
    expect(await deploy.isDisabled()).toBe(false);
    await review(page, 'deploy-hostname-available');

    // Resources are bounded by the catalog minimum (whoami: 128 MB) and the settings maximum.
    const memory = page.getByLabel(/^Memory in MB/);
    await expect(memory.getAttribute('min')).resolves.toBe('128');
    await memory.fill('64');
    await page.getByText('This app needs at least 128.').waitFor();
    expect(await deploy.isDisabled()).toBe(true);
    await memory.fill('512');
    expect(await deploy.isDisabled()).toBe(false);

    // Taken between the check and the submit: the API's 409 is still shown.
    const race = await t
      .http()
      .post('/api/apps')
      .set(bearer(holder))
      .send({ catalogId: 'whoami', hostname: 'free-name' });
    expect(race.status).toBe(202);
    await deploy.click();
    await page.getByRole('alert').getByText("hostname 'free-name' is taken").waitFor();
    await settled(t, holder, (race.body as AppBody).id);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('deploy form: secret variables are password fields with a show toggle; generated ones are explained; placement is optional', async () => {
    const user = await createUser(t, admin);
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, user.username, user.password);
    await page.goto(`${BASE}/catalog/n8n/deploy`);
    const secret = page.getByLabel('ENCRYPTION_KEY', { exact: true });
    await secret.waitFor();
    expect(await secret.getAttribute('type')).toBe('password');
    expect(await readText(page.locator('#env-ENCRYPTION_KEY-help'))).toMatch(
      /Generated for you: leave it empty .* random 32-character hex key .*kept secret/,
    );
    await secret.fill('my-own-key');
    await page.getByRole('button', { name: 'Show ENCRYPTION_KEY' }).click();
    expect(await secret.getAttribute('type')).toBe('text');
    await page.getByRole('button', { name: 'Hide ENCRYPTION_KEY' }).click();
    expect(await secret.getAttribute('type')).toBe('password');

    const node = page.getByRole('combobox', { name: /^Node/ });
    expect(await node.isDisabled()).toBe(true);
    await page.getByRole('combobox', { name: /^Host/ }).selectOption({ label: 'pve-account' });
    expect(await node.isDisabled()).toBe(false);
    const options = await node.locator('option').allTextContents();
    expect(options[0]).toMatch(/^Automatic/);
    expect(options.slice(1).some((o) => /memory free, \d+ CPUs$/.test(o))).toBe(true);
    await review(page, 'deploy-secret-placement');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('catalog at 390 px: search and the category filter narrow the cards, which show minimums and ports', async () => {
    const { page, errors } = await openPage(browser);
    await page.setViewportSize({ width: WIDTHS.phone, height: 900 });
    await page.goto(`${BASE}/catalog`);
    const card = (name: string) =>
      page.getByRole('listitem').filter({
        has: page.getByRole('heading', { name, exact: true }),
      });
    await card('whoami').waitFor();
    await card('whoami').getByText('At least 1 core, 128 MB memory, 1 GB disk').waitFor();
    await card('whoami').getByText('Ports: web 80/tcp').waitFor();

    await page.getByLabel('Category').selectOption('tools');
    await page
      .getByRole('status')
      .filter({ hasText: /^2 apps$/ })
      .waitFor();
    expect(await card('Adminer').count()).toBe(0);
    expect(await card('whoami').count()).toBe(1);

    await page.getByLabel('Search').fill('whoami');
    await page
      .getByRole('status')
      .filter({ hasText: /^1 app$/ })
      .waitFor();
    // Nothing scrolls sideways on a phone.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      WIDTHS.phone,
    );
    await review(page, 'catalog-filtered');

    await page.getByLabel('Search').fill('');
    await page.getByLabel('Category').selectOption('');
    await card('Adminer').waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
