import type { Browser, Locator, Page } from 'playwright-core';
import { nextRuns } from '../../src/backups/schedule/cron-schedule';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, reaches, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';
import { HOST_NAME, launch, logIn, openPage, review } from './browser';

/** This file's share of the machine: the API's port, and the public ports of its apps. */
const API_PORT = 31_690;
const APP_PORTS: [number, number] = [31_600, 31_689];
const BASE = `http://${HOST_NAME}:${API_PORT}`;
const UPSTREAM_TEXT = 'upstream-text-that-must-stay-in-the-server-log';
const UUID = '[0-9a-f-]{36}';

describe('an application’s page and its backups, in Chromium against the real API', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let browser: Browser;
  let admin: Session;
  let owner: Session;
  let hostId: string;
  /** Deployed through the API once, for the tests that are not about deploying. */
  let app: AppBody & { name: string };

  beforeAll(async () => {
    t = await startFreshApp();
    await t.app.listen(API_PORT, '127.0.0.1');
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-app-page', 681_000, APP_PORTS);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'kept' });
    expect(res.status).toBe(202);
    app = (await settled(t, owner, (res.body as AppBody).id)) as AppBody & { name: string };
    expect(app.status).toBe('running');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
    await sim.control('POST', '/_sim/latency', { taskMs: 10, statsIntervalMs: 10_000 });
  });

  const statusOf = (page: Page, name: string, status: string): Locator =>
    page.getByRole('heading', { level: 1, name }).getByText(status, { exact: true });

  /** Clicks a lifecycle button and answers its confirmation. */
  async function confirmAction(page: Page, label: string): Promise<void> {
    await page
      .getByRole('group', { name: 'Lifecycle' })
      .getByRole('button', { name: label, exact: true })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: label, exact: true }).click();
  }

  it('golden path: log in, find and deploy an app, watch it run, stop, start, back up, restore, delete', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.getByLabel('Search').fill('whoami');
    await page
      .getByRole('status')
      .filter({ hasText: /^1 app$/ })
      .waitFor();
    await page.getByRole('link', { name: 'whoami' }).click();
    await page.getByRole('link', { name: 'Deploy whoami' }).click();
    await page.getByLabel('Hostname').fill('golden');
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(new RegExp(`^${BASE}/apps/${UUID}$`));
    const id = page.url().split('/').pop()!;
    await statusOf(page, 'whoami', 'running').waitFor({ timeout: 60_000 });
    await page
      .getByRole('region', { name: 'Last operation' })
      .getByText(/^deploy · succeeded/)
      .waitFor();

    // The address is a link, and the app behind it answers.
    const deployed = (await t.http().get(`/api/apps/${id}`).set(bearer(owner))).body as AppBody;
    const link = page.getByRole('link', { name: deployed.url! });
    expect(await link.getAttribute('href')).toBe(deployed.url);
    expect((await fetch(deployed.url!)).status).toBe(200);

    // Metrics: a value in words beside each chart.
    const metrics = page.getByRole('region', { name: 'Live metrics' });
    await metrics.getByText(/^\d+(\.\d)? %$/).waitFor();
    const used = metrics.getByText(/^[\d.]+ [KMG]?B of [\d.]+ [KMG]?B$/);
    await used.first().waitFor();
    expect(await used.count()).toBe(2);
    await metrics.getByText(/\/s in · .+\/s out$/).waitFor({ timeout: 15_000 });
    await review(page, 'app-running');

    // Escape cancels a confirmation; focus goes back to the button that asked.
    await page
      .getByRole('group', { name: 'Lifecycle' })
      .getByRole('button', { name: 'Stop' })
      .click();
    await page.getByRole('dialog', { name: 'Stop whoami?' }).waitFor();
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Cancel');
    await review(page, 'app-confirm-stop');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Stop');
    expect(
      ((await t.http().get(`/api/apps/${id}`).set(bearer(owner))).body as AppBody).status,
    ).toBe('running');

    await confirmAction(page, 'Stop');
    await statusOf(page, 'whoami', 'stopped').waitFor({ timeout: 30_000 });
    await page
      .getByRole('region', { name: 'Last operation' })
      .getByText(/^stop · succeeded/)
      .waitFor();
    await page.getByText('Metrics are read every 5 seconds while the app is running.').waitFor();
    expect(await page.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Restart' }).isDisabled()).toBe(true);
    await review(page, 'app-stopped');

    await confirmAction(page, 'Start');
    await statusOf(page, 'whoami', 'running').waitFor({ timeout: 30_000 });
    expect((await fetch(deployed.url!)).status).toBe(200);

    // Back up, then restore that backup.
    await page.getByRole('link', { name: 'Backups and schedule' }).click();
    await page.waitForURL(`${BASE}/apps/${id}/backups`);
    await page.getByLabel('Notes').fill('before the restore');
    await page.getByRole('button', { name: 'Back up', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'before the restore' });
    await row.getByText('completed', { exact: true }).waitFor({ timeout: 30_000 });
    await expect(row.getByRole('cell').nth(2).textContent()).resolves.toMatch(/^[\d.]+ (B|KB|MB)$/);
    await review(page, 'backups');

    await row.getByRole('button', { name: /^Restore/ }).click();
    const restore = page.getByRole('dialog', { name: 'Restore this backup?' });
    await restore.getByText(/is overwritten with the backup/).waitFor();
    await review(page, 'backups-confirm-restore');
    await restore.getByRole('button', { name: 'Restore' }).click();
    await page
      .getByRole('region', { name: 'Last operation' })
      .getByText(/^restore · succeeded/)
      .waitFor({ timeout: 30_000 });
    await statusOf(page, 'Backups of whoami', 'running').waitFor();
    expect((await fetch(deployed.url!)).status).toBe(200);

    // Delete, keeping nothing: it leaves My apps, and its backup archive goes with it.
    const listed = await t.http().get(`/api/apps/${id}/backups`).set(bearer(owner));
    const [archive] = (listed.body as { items: { volid: string }[] }).items.map((b) => b.volid);
    expect((await sim.state()).backups).toContain(archive);
    await page.getByRole('link', { name: '← whoami' }).click();
    await page.waitForURL(`${BASE}/apps/${id}`);
    await page
      .getByRole('group', { name: 'Lifecycle' })
      .getByRole('button', { name: 'Delete' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Delete whoami?' });
    expect(await dialog.getByLabel('Keep its backup archives in storage').isChecked()).toBe(false);
    expect(await dialog.getByLabel('Destroy the adopted container too').count()).toBe(0);
    await review(page, 'app-confirm-delete');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${BASE}/apps`, { timeout: 30_000 });
    await page.getByRole('row').filter({ hasText: 'kept' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'golden' }).count()).toBe(0);
    expect((await t.http().get(`/api/apps/${id}`).set(bearer(owner))).status).toBe(404);
    const after = await sim.state();
    expect(after.containers.filter((c) => c.hostname === 'golden')).toEqual([]);
    expect(after.backups).not.toContain(archive);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a deploy that fails for good shows a readable error and leaves nothing behind', async () => {
    expect(
      (
        await sim.control('POST', '/_sim/faults', {
          rules: [{ method: 'POST', path: '/nodes/[^/]+/lxc$', failTask: UPSTREAM_TEXT }],
        })
      ).status,
    ).toBe(201);
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.goto(`${BASE}/catalog/whoami/deploy`);
    await page.getByLabel('Hostname').fill('doomed');
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(new RegExp(`^${BASE}/apps/${UUID}$`));
    const id = page.url().split('/').pop()!;
    await statusOf(page, 'whoami', 'error').waitFor({ timeout: 60_000 });
    const last = page.getByRole('region', { name: 'Last operation' });
    await last.getByText(/^deploy · failed · step create_container · attempt 3 of 3$/).waitFor();
    const alert = page.getByRole('alert');
    expect(await alert.count()).toBe(1);
    const failed = (await t.http().get(`/api/apps/${id}`).set(bearer(owner))).body as AppBody;
    await expect(alert.textContent()).resolves.toBe(failed.lastError);
    const text = await page.locator('main').textContent();
    expect(text).not.toContain(UPSTREAM_TEXT);
    expect(text).not.toMatch(/\bat \S+ \(|Error:|\.ts:\d+/);
    // No container is left to start: deleting the app is what remains.
    const lifecycle = page.getByRole('group', { name: 'Lifecycle' });
    expect(await lifecycle.getByRole('button', { name: 'Start', exact: true }).isDisabled()).toBe(
      true,
    );
    expect(await lifecycle.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(false);
    await review(page, 'app-deploy-failed');

    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === 'doomed')).toEqual([]);
    expect(state.forwards.filter((f) => f.comment?.includes(id))).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('an action while another operation runs shows the API’s 409 reason', async () => {
    // A slow backup holds the app's one operation slot while the page asks to stop it.
    await sim.control('POST', '/_sim/latency', { taskMs: 3000 });
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.goto(`${BASE}/apps/${app.id}/backups`);
    await page.getByRole('button', { name: 'Back up', exact: true }).click();
    const progress = page.getByRole('region', { name: 'Operation in progress' });
    await progress.getByText(/^backup · (queued|running)/).waitFor();
    await progress.getByRole('progressbar', { name: 'Progress' }).waitFor();
    await review(page, 'backups-running');

    await page.getByRole('link', { name: `← ${app.name}` }).click();
    await page.getByRole('region', { name: 'Operation in progress' }).waitFor();
    await confirmAction(page, 'Stop');
    await page
      .getByRole('alert')
      .getByText('another operation on this application is under way')
      .waitFor();
    await review(page, 'app-conflict');
    await page
      .getByRole('region', { name: 'Last operation' })
      .getByText(/^backup · succeeded/)
      .waitFor({ timeout: 60_000 });
    expect((await reaches(t, owner, app.id, ['running']))?.status).toBe('running');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('schedule editor: the next runs as typed, saved and shown again, a too frequent one refused in the API’s words', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    // A zone far from UTC: a preview that read the cron in local time would move every run.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Tokyo' });
    await page.goto(`${BASE}/apps/${app.id}/backups`);
    const schedule = page.getByRole('region', { name: 'Backup schedule' });
    await schedule.getByText('No schedule yet: backups run only when you start one.').waitFor();
    const cron = schedule.getByLabel(/^Cron expression/);
    const preview = schedule.getByRole('group', { name: 'Next runs' });

    await cron.fill('every day');
    await preview
      .getByText('Five fields (minute hour day month weekday), or six with seconds first.')
      .waitFor();
    await cron.fill('0 25 * * *');
    await preview.getByText('This is not a valid cron expression.').waitFor();

    await cron.fill('30 4 * * 1');
    const expected = nextRuns('30 4 * * 1', 5).map((d) => d.toISOString());
    await preview.locator(`time[datetime="${expected[4]}"]`).waitFor();
    const shown = await Promise.all(
      (await preview.locator('time').all()).map((time) => time.getAttribute('datetime')),
    );
    expect(shown).toEqual(expected);
    await expect(preview.locator('li').first().textContent()).resolves.toMatch(
      /4:30 AM UTC · .+, 1:30 PM your time$/,
    );
    await schedule.getByLabel('Backups kept').fill('3');
    await review(page, 'backup-schedule');
    await schedule.getByRole('button', { name: 'Save schedule' }).click();
    await schedule.getByText(/^Schedule saved\. Next backup .+ UTC\.$/).waitFor();

    await page.reload();
    await expect(schedule.getByLabel(/^Cron expression/).inputValue()).resolves.toBe('30 4 * * 1');
    await expect(schedule.getByLabel('Backups kept').inputValue()).resolves.toBe('3');
    const stored = await t.http().get(`/api/apps/${app.id}/backup-schedule`).set(bearer(owner));
    expect(stored.body).toMatchObject({ cron: '30 4 * * 1', keepLast: 3, enabled: true });

    await schedule.getByLabel(/^Cron expression/).fill('* * * * * *');
    await schedule.getByRole('button', { name: 'Save schedule' }).click();
    await schedule
      .getByRole('alert')
      .getByText(/runs more often than once every 60 seconds/)
      .waitFor();
    await review(page, 'backup-schedule-refused');
    const unchanged = await t.http().get(`/api/apps/${app.id}/backup-schedule`).set(bearer(owner));
    expect(unchanged.body).toMatchObject({ cron: '30 4 * * 1' });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('credentials: the owner reveals, copies and hides them; an admin who is not the owner gets the API’s answer', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.goto(`${BASE}/apps/${app.id}`);
    const section = page.getByRole('region', { name: 'Credentials' });
    await section.getByRole('button', { name: 'Reveal credentials' }).click();
    const expected = await t.http().get(`/api/apps/${app.id}/credentials`).set(bearer(owner));
    const password = (expected.body as { rootPassword: string }).rootPassword;
    await section.getByText(password, { exact: true }).waitFor();
    await section.getByRole('button', { name: 'Copy password' }).click();
    await section.getByRole('status').getByText('Password copied.').waitFor();
    // What was copied is the password: pasted into a field of the page, it reads the same.
    const field = page.getByLabel('Hostname of the copy');
    await field.focus();
    await page.keyboard.press('Control+V');
    await expect(field.inputValue()).resolves.toBe(password);
    await field.fill('');
    await review(page, 'app-credentials');
    await section.getByRole('button', { name: 'Hide credentials' }).click();
    expect(await section.getByText(password).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();

    const other = await openPage(browser);
    await logIn(other.page, BASE, ADMIN_USERNAME, ADMIN_PASSWORD);
    await other.page.goto(`${BASE}/apps/${app.id}`);
    const theirs = other.page.getByRole('region', { name: 'Credentials' });
    await theirs.getByRole('button', { name: 'Reveal credentials' }).click();
    await theirs.getByRole('alert').getByText('Application not found').waitFor();
    await review(other.page, 'app-credentials-admin');
    expect(other.errors).toEqual([]);
    await other.page.context().close();
  });

  it('deleting an adopted app offers to destroy its container; left unticked, the container stays', async () => {
    // Adoption reads the cluster view, which the simulator refreshes every 10 s unless told.
    await sim.control('POST', '/_sim/latency', { statsIntervalMs: 100 });
    const guest = await sim.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid: 681_900,
      hostname: 'outsider',
    });
    expect(guest.status).toBe(201);
    const accepted = await t
      .http()
      .post('/api/apps/adopt')
      .set(bearer(admin))
      .send({ hostId, node: 'pve1', vmid: 681_900, ownerId: owner.userId, name: 'outsider' });
    expect(accepted.status).toBe(202);
    const id = (accepted.body as AppBody).id;
    await reaches(t, owner, id, ['running']);

    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.goto(`${BASE}/apps/${id}`);
    await statusOf(page, 'outsider', 'running').waitFor();
    await page
      .getByRole('group', { name: 'Lifecycle' })
      .getByRole('button', { name: 'Delete' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Delete outsider?' });
    await dialog
      .getByText('Proximity stops managing this container; the container itself is kept.')
      .waitFor();
    await dialog.getByLabel('Destroy the adopted container too').check();
    await dialog.getByText('The container and everything in it are destroyed.').waitFor();
    await review(page, 'app-confirm-delete-adopted');
    await dialog.getByLabel('Destroy the adopted container too').uncheck();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${BASE}/apps`, { timeout: 30_000 });
    expect((await t.http().get(`/api/apps/${id}`).set(bearer(owner))).status).toBe(404);
    expect((await sim.state()).containers.filter((c) => c.vmid === 681_900)).toEqual([
      expect.objectContaining({ hostname: 'outsider', status: 'running' }),
    ]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('clone: the hostname checked as typed (rule, then taken or available), then the new app’s page follows the clone to running', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, BASE, owner.username, owner.password);
    await page.goto(`${BASE}/apps/${app.id}`);
    const section = page.getByRole('region', { name: 'Clone' });
    const hostname = section.getByLabel('Hostname of the copy');
    await hostname.fill('Bad_Name');
    await section.getByText('Lowercase letters only.').waitFor();
    expect(await section.getByRole('button', { name: 'Clone' }).isDisabled()).toBe(true);
    // Taken (by its own source): said before any submit, and Clone stays disabled.
    await hostname.fill(app.hostname);
    await section.getByText('This hostname is taken by another application.').waitFor();
    expect(await section.getByRole('button', { name: 'Clone' }).isDisabled()).toBe(true);
    await review(page, 'app-clone-refused');

    await hostname.fill('kept-copy');
    await section.getByText('Available.').waitFor();
    await section.getByRole('button', { name: 'Clone' }).click();
    await page.waitForURL(
      (url) =>
        url.pathname !== `/apps/${app.id}` && new RegExp(`^/apps/${UUID}$`).test(url.pathname),
    );
    await statusOf(page, app.name, 'running').waitFor({ timeout: 60_000 });
    await page
      .getByRole('region', { name: 'Last operation' })
      .getByText(/^clone · succeeded/)
      .waitFor();
    const clone = await t
      .http()
      .get(`/api/apps/${page.url().split('/').pop()!}`)
      .set(bearer(owner));
    expect(clone.body).toMatchObject({ hostname: 'kept-copy', status: 'running' });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
