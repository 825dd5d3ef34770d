import type { Browser, Page } from 'playwright-core';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, login, loginAdmin, type Session } from '../support/users';
import { HOST_NAME, launch, logIn, openPage, review } from './browser';

/** This file's share of the machine: the API's port, its apps' public ports, its VMIDs. */
const API_PORT = 31_790;
const PORT_MIN = 31_750;
const PORT_MAX = 31_779;
const VMID_MIN = 682_000;
/** The host registered with a wrong pin gets pools of its own: hosts may not overlap. */
const WRONG_PIN_POOLS = { vmidMin: 682_500, portMin: 31_780, portMax: 31_789 };
const FOREIGN_VMID = 682_900;
const BASE = `http://${HOST_NAME}:${API_PORT}`;

const ADMIN_SCREENS = [
  '/admin',
  '/admin/hosts',
  '/admin/users',
  '/admin/settings',
  '/admin/audit',
  '/admin/ports',
  '/admin/discover',
];

describe('the administrator’s screens in Chromium, against the real API and a simulator', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let browser: Browser;
  let admin: Session;
  let user: Session;
  let hostId: string;

  beforeAll(async () => {
    t = await startFreshApp();
    await t.app.listen(API_PORT, '127.0.0.1');
    // Short statistics ticks: discovery reads the lagging cluster view.
    sim = await SimulatorFixture.start({
      latency: { taskMs: 10, dhcpLeaseMs: 100, statsIntervalMs: 50 },
    });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sim?.close();
  });

  async function adminPage(): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser);
    await logIn(opened.page, BASE, admin.username, admin.password);
    return opened;
  }

  /** Fills the register form with the simulator's address and credentials, as an admin would. */
  async function fillHost(
    page: Page,
    name: string,
    tlsFingerprint: string,
    { vmidMin, portMin, portMax } = { vmidMin: VMID_MIN, portMin: PORT_MIN, portMax: PORT_MAX },
  ): Promise<void> {
    await page.getByRole('button', { name: 'Register a host' }).click();
    const fields: [string | RegExp, string][] = [
      ['Name', name],
      ['Address', '127.0.0.1'],
      ['API port', String(sim.sim.port)],
      ['API token ID', sim.sim.tokenId],
      ['API token secret', sim.sim.tokenSecret],
      ['TLS certificate fingerprint (SHA-256)', tlsFingerprint],
      ['SSH port', String(sim.sim.sshPort)],
      ['SSH password', sim.sim.sshPassword],
      ['SSH host key fingerprint', sim.sim.sshHostKeyFingerprint],
      ['First VMID', String(vmidMin)],
      ['Last VMID', String(vmidMin + 99)],
      ['First public port', String(portMin)],
      ['Last public port', String(portMax)],
    ];
    for (const [label, value] of fields) await page.getByLabel(label, { exact: true }).fill(value);
  }

  it('the overview links every admin screen', async () => {
    const { page, errors } = await adminPage();
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    for (const name of ['Proxmox hosts', 'Users', 'Settings', 'Audit log', 'Ports']) {
      await page.getByRole('link', { name, exact: true }).waitFor();
    }
    await review(page, 'admin-overview');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a host registered through the form passes Test (API and SSH), and Sync shows its nodes with capacity', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/hosts`);
    await page.getByText('No Proxmox host is registered yet').waitFor();
    await fillHost(page, 'pve-form', sim.sim.tlsFingerprint);
    await page.getByLabel('Default host for new apps').check();
    expect(await page.getByLabel('API token secret').getAttribute('type')).toBe('password');
    await review(page, 'admin-hosts-register');
    await page.getByRole('button', { name: 'Register host' }).click();
    await page.waitForURL(new RegExp(`^${BASE}/admin/hosts/[0-9a-f-]{36}\\?test=1$`));
    hostId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('heading', { name: 'pve-form' }).waitFor();

    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByRole('region', { name: 'Connection test' });
    await result.getByText(/^OK · Proxmox VE \S+ · \d+ ms$/).waitFor();
    await expect(result.locator('dd').nth(1).textContent()).resolves.toBe('OK');
    // Each node as deploys reach it, relayed through the host's SSH endpoint.
    await expect(result.locator('dt').allTextContents()).resolves.toEqual([
      'Proxmox API',
      'SSH',
      'SSH to pve1',
      'SSH to pve2',
    ]);
    await expect(result.locator('dd').nth(3).textContent()).resolves.toBe('OK');

    await page.getByRole('button', { name: 'Sync' }).click();
    await page
      .getByRole('status')
      .getByText(/^Synced: \d+ nodes? reported\.$/)
      .waitFor();
    for (const node of sim.sim.nodes) {
      const card = page
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading', { name: node }) });
      await card.getByText(/^Memory: [\d.]+ \w+ used of [\d.]+ \wB$/).waitFor();
      await card.getByText(/^Disk: [\d.]+ \wB free$/).waitFor();
      await card.getByRole('meter', { name: `Memory used on ${node}` }).waitFor();
    }
    await review(page, 'admin-host');

    await page.getByRole('link', { name: 'All hosts' }).click();
    const row = page.getByRole('row').filter({ hasText: 'pve-form' });
    await row.getByText(`https://127.0.0.1:${sim.sim.port}`).waitFor();
    await row.getByText(/^\d+ of \d+ nodes? online$/).waitFor();
    await review(page, 'admin-hosts');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a wrong TLS fingerprint: malformed is refused on its field; a well-formed wrong one fails the test in plain words', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/hosts`);
    await fillHost(page, 'pve-wrong-pin', 'AA:BB', WRONG_PIN_POOLS);
    await page.getByRole('button', { name: 'Register host' }).click();
    await page
      .getByRole('alert')
      .getByText(/^tlsFingerprint: /)
      .waitFor();

    const wrong = Array.from({ length: 32 }, () => 'AB').join(':');
    await page.getByLabel('TLS certificate fingerprint (SHA-256)').fill(wrong);
    await page.getByRole('button', { name: 'Register host' }).click();
    await page.waitForURL(/\/admin\/hosts\/[0-9a-f-]{36}\?test=1$/);
    const api = page.getByRole('region', { name: 'Connection test' }).locator('dd').first();
    await api.getByText(/^Failed: .*TLS certificate does not match/).waitFor();
    expect(await api.textContent()).not.toMatch(/127\.0\.0\.1|ECONN|Error:|api2/);
    // The SSH part, whose pin is right, is reported on its own.
    await expect(
      page.getByRole('region', { name: 'Connection test' }).locator('dd').nth(1).textContent(),
    ).resolves.toBe('OK');
    await review(page, 'admin-host-wrong-pin');

    // The host that never worked is removed again, after a confirmation.
    await page.getByRole('button', { name: 'Delete host' }).click();
    await page.getByRole('button', { name: 'Yes, delete host' }).click();
    await page.waitForURL(`${BASE}/admin/hosts`);
    await page.getByRole('row').filter({ hasText: 'pve-form' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'pve-wrong-pin' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a user who is not an admin gets the 404 page on every admin screen, and the API answers 403', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, user.username, user.password);
    expect(await page.getByRole('link', { name: 'Admin', exact: true }).count()).toBe(0);
    for (const path of [
      ...ADMIN_SCREENS,
      `/admin/hosts/${hostId}`,
      `/admin/users/${admin.userId}`,
    ]) {
      await page.goto(`${BASE}${path}`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    }
    await review(page, 'admin-not-found');
    for (const path of [
      '/api/proxmox/hosts',
      `/api/proxmox/hosts/${hostId}`,
      '/api/users',
      '/api/audit',
      '/api/ports',
      '/api/apps/discover',
    ]) {
      expect({ path, status: (await t.http().get(path).set(bearer(user))).status }).toEqual({
        path,
        status: 403,
      });
    }
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a user created through the UI, then disabled, cannot log in; their API token is revoked from their page', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/users`);
    const created = { username: 'carol-ui', password: 'carol-ui-password-1' };
    await page.getByLabel('Username').fill(created.username);
    await page.getByLabel('Password').fill(created.password);
    await page.getByLabel('Role').selectOption('user');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByText('carol-ui can now log in.').waitFor();
    await review(page, 'admin-users');

    const carol = await login(t, created.username, created.password);
    const token = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(carol))
      .send({ name: 'carol-script' });
    expect(token.status).toBe(201);

    await page.getByRole('row').filter({ hasText: created.username }).getByRole('link').click();
    await page.getByRole('heading', { name: created.username }).waitFor();
    await page.getByRole('cell', { name: 'carol-script', exact: true }).waitFor();
    await review(page, 'admin-user');
    await page.getByRole('button', { name: 'Revoke carol-script' }).click();
    await page.getByText('Token carol-script revoked.').waitFor();
    await page.getByText('No API token.').waitFor();

    await page.getByRole('button', { name: 'Disable user' }).click();
    await page.getByText('User disabled.').waitFor();
    await page.getByRole('button', { name: 'Enable user' }).waitFor();
    expect(errors).toEqual([]);
    await page.context().close();

    const other = await openPage(browser);
    await other.page.goto(`${BASE}/login`);
    await other.page.getByLabel('Username').fill(created.username);
    await other.page.getByLabel('Password').fill(created.password);
    await other.page.getByRole('button', { name: 'Log in' }).click();
    await other.page.getByRole('alert').getByText('Invalid username or password').waitFor();
    expect(other.page.url()).toBe(`${BASE}/login`);
    expect(other.errors).toEqual([]);
    await other.page.context().close();
  });

  it('the last admin cannot be disabled: the API’s reason is shown', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/users/${admin.userId}`);
    await page.getByRole('button', { name: 'Disable user' }).click();
    await page.getByRole('alert').getByText(/admin/i).waitFor();
    await page.getByRole('button', { name: 'Disable user' }).waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('settings: the bounds are shown, a 400 is shown on its field, a valid change is saved', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/settings`);
    const cores = page.getByRole('spinbutton', { name: /^Cores \(1–128\)/ });
    await cores.waitFor();
    await review(page, 'admin-settings');
    await cores.fill('100');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('input[name="defaults.cores"][aria-invalid="true"]').waitFor();
    const describedBy = await cores.getAttribute('aria-describedby');
    await expect(page.locator(`#${describedBy!}`).textContent()).resolves.toMatch(/\S/);
    await review(page, 'admin-settings-error');

    await cores.fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    expect(settings.body).toMatchObject({ defaults: { cores: 2 } });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('audit log: filtered on host.create, it lists the host registrations', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/audit`);
    await page.getByRole('cell', { name: 'auth.login' }).first().waitFor();
    await page.getByLabel('Action').fill('host.create');
    const others = page.locator('tbody tr').filter({ hasNotText: 'host.create' });
    await others.first().waitFor({ state: 'detached' });
    // Both registrations succeeded (the malformed one may be listed too, as a failure).
    const registered = page
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'success', exact: true }) });
    expect(await registered.count()).toBe(2);
    await registered
      .filter({ hasText: hostId })
      .getByRole('cell', { name: admin.username })
      .waitFor();
    await page.getByLabel('Actor').selectOption({ label: user.username });
    await page.getByText('No entry matches.').waitFor();
    await page.getByLabel('Actor').selectOption({ label: admin.username });
    await registered.filter({ hasText: hostId }).waitFor();
    await review(page, 'admin-audit');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('discover lists a container made behind Proximity’s back; adopting it leads to its app page, which follows it to running', async () => {
    const created = await sim.createContainer(FOREIGN_VMID, {
      hostname: 'legacy-web',
      start: 1,
    });
    expect(created.exitstatus).toBe('OK');
    const { page, errors } = await adminPage();
    // The cluster view lags the creation a little: the page is reloaded until it names the container.
    for (;;) {
      await page.goto(`${BASE}/admin/discover`);
      await page.getByRole('heading', { name: 'pve-form' }).waitFor();
      await page
        .getByText(/^VMID|managed by Proximity/)
        .first()
        .waitFor();
      if ((await page.getByRole('heading', { name: 'legacy-web' }).count()) > 0) break;
    }
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'legacy-web' }) });
    await card.getByText(`VMID ${FOREIGN_VMID} on pve1 · running`).waitFor();
    await review(page, 'admin-discover');

    await card.getByRole('button', { name: 'Adopt legacy-web' }).click();
    await card.getByRole('combobox', { name: /^Owner/ }).selectOption({ label: user.username });
    await review(page, 'admin-adopt');
    await card.getByRole('button', { name: 'Adopt', exact: true }).click();
    await page.waitForURL(new RegExp(`^${BASE}/apps/[0-9a-f-]{36}$`));
    await page
      .getByRole('heading', { name: 'legacy-web' })
      .getByText('running')
      .waitFor({ timeout: 30_000 });
    const id = page.url().split('/').pop()!;
    const app = await t.http().get(`/api/apps/${id}`).set(bearer(user));
    expect(app.body).toMatchObject({ adopted: true, vmid: FOREIGN_VMID, ownerId: user.userId });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('ports: each host’s pool with its usage', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/ports`);
    const pool = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'pve-form' }) });
    await pool.getByText(`Ports ${PORT_MIN}–${PORT_MAX}: 0 used of 30, 30 free`).waitFor();
    await pool.getByRole('meter', { name: 'Ports used on pve-form' }).waitFor();
    await page.getByText('No port is allocated.').waitFor();
    await review(page, 'admin-ports');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('edit a host (its secrets are never shown again); deleting it while it holds an app shows the API’s reason', async () => {
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/hosts/${hostId}`);
    await page.getByRole('button', { name: 'Edit' }).click();
    const secret = page.getByLabel('API token secret');
    expect(await secret.inputValue()).toBe('');
    expect(await secret.getAttribute('type')).toBe('password');
    await page.getByText('A value is stored; leave empty to keep it.').first().waitFor();
    expect(await page.content()).not.toContain(sim.sim.tokenSecret);
    await page.getByLabel('Name', { exact: true }).fill('pve-renamed');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'pve-renamed' }).waitFor();
    // The secret kept: the host still answers with its token.
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page
      .getByRole('region', { name: 'Connection test' })
      .getByText(/^OK · Proxmox VE/)
      .waitFor();

    await page.getByRole('button', { name: 'Delete host' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete host' }).click();
    await page.getByRole('button', { name: 'Yes, delete host' }).click();
    await page
      .getByRole('alert')
      .getByText('applications live on this host; delete them first')
      .waitFor();
    expect(page.url()).toBe(`${BASE}/admin/hosts/${hostId}`);
    await review(page, 'admin-host-delete-refused');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a user without apps is deleted after a confirmation', async () => {
    const doomed = await createUser(t, admin);
    const { page, errors } = await adminPage();
    await page.goto(`${BASE}/admin/users/${doomed.userId}`);
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('button', { name: 'Yes, delete user' }).click();
    await page.waitForURL(`${BASE}/admin/users`);
    await page.getByRole('link', { name: user.username, exact: true }).waitFor();
    expect(await page.getByRole('link', { name: doomed.username, exact: true }).count()).toBe(0);
    expect((await t.http().get(`/api/users/${doomed.userId}`).set(bearer(admin))).status).toBe(404);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
