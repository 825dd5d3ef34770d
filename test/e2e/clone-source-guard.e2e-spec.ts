import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, type OperationBody, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { waitFor } from '../support/spawn-app';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface BackupBody {
  id: string;
  status: string;
  operation?: OperationBody;
}

const BEING_CLONED =
  "application 'guarded-source' is being cloned; try again when the clone has finished";

/** A clone copies its source's disk: no backup, restore or backup delete of the source meanwhile. */
describe('the source of a running clone', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let owner: Session;
  let source: AppBody;
  let backup: BackupBody;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-guard', 686_000, [31_910, 31_949]);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'guarded-source' });
    expect(res.status).toBe(202);
    source = await settled(t, owner, (res.body as AppBody).id);
    expect(source.status).toBe('running');
    backup = await backedUp();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();
  const base = () => `/api/apps/${source.id}/backups`;
  const createBackup = () => t.http().post(base()).set(bearer(owner)).send({});
  const restore = (id: string) => t.http().post(`${base()}/${id}/restore`).set(bearer(owner));
  const removeBackup = (id: string) => t.http().delete(`${base()}/${id}`).set(bearer(owner));
  const ended = (operationId: string) =>
    waitFor(
      async () => {
        const res = await t.http().get(`/api/operations/${operationId}`).set(bearer(owner));
        const op = res.body as OperationBody;
        return op.status === 'succeeded' || op.status === 'failed' ? op : null;
      },
      120_000,
      200,
    );
  async function backedUp(): Promise<BackupBody> {
    const res = await createBackup();
    expect(res.status).toBe(202);
    const accepted = res.body as BackupBody;
    expect((await ended(accepted.operation!.id)).status).toBe('succeeded');
    return accepted;
  }
  const backupRows = () =>
    sql().execute<{ id: string; status: string }[]>(
      'select id, status from backup where application_id = ? order by id',
      [source.id],
    );

  it('refuses backup, restore and backup delete while the clone runs (409), and allows them after', async () => {
    // The clone task waits: the clone is under way meanwhile.
    const delay = { method: 'POST', path: '/clone$', delayMs: 5000, times: 1 };
    expect((await sim.control('POST', '/_sim/faults', { rules: [delay] })).status).toBe(201);
    const cloned = await t
      .http()
      .post(`/api/apps/${source.id}/clone`)
      .set(bearer(owner))
      .send({ hostname: 'guarded-copy' });
    expect(cloned.status).toBe(202);
    const rowsBefore = await backupRows();

    expect(expectError(await createBackup(), 409).message).toBe(BEING_CLONED);
    expect(expectError(await restore(backup.id), 409).message).toBe(BEING_CLONED);
    expect(expectError(await removeBackup(backup.id), 409).message).toBe(BEING_CLONED);

    expect(await backupRows()).toEqual(rowsBefore);
    const during = await t.http().get(`/api/apps/${source.id}`).set(bearer(owner));
    expect(during.body).toMatchObject({ status: 'running', operation: null });
    const copy = await reaches(t, owner, (cloned.body as AppBody).id, ['running', 'error']);
    expect(copy?.status).toBe('running');

    const later = await backedUp();
    const restored = await restore(later.id);
    expect(restored.status).toBe(202);
    expect((await ended((restored.body as BackupBody).operation!.id)).status).toBe('succeeded');
    expect((await reaches(t, owner, source.id, ['running', 'error']))?.status).toBe('running');
    const removed = await removeBackup(backup.id);
    expect(removed.status).toBe(202);
    expect((await ended((removed.body as BackupBody).operation!.id)).status).toBe('succeeded');
  });

  it('refuses a clone while the source is being backed up (409), and allows it after', async () => {
    const delay = { method: 'POST', path: '/vzdump$', delayMs: 3000, times: 1 };
    expect((await sim.control('POST', '/_sim/faults', { rules: [delay] })).status).toBe(201);
    const running = await createBackup();
    expect(running.status).toBe(202);
    const clone = () =>
      t
        .http()
        .post(`/api/apps/${source.id}/clone`)
        .set(bearer(owner))
        .send({ hostname: 'late-copy' });

    expect(expectError(await clone(), 409).message).toBe(
      "application 'guarded-source' has a backup under way; clone it when that has finished",
    );
    const copies = await sql().execute("select id from application where hostname = 'late-copy'");
    expect(copies).toEqual([]);

    expect((await ended((running.body as BackupBody).operation!.id)).status).toBe('succeeded');
    const accepted = await clone();
    expect(accepted.status).toBe(202);
    const copy = await reaches(t, owner, (accepted.body as AppBody).id, ['running', 'error']);
    expect(copy?.status).toBe('running');
  });
});
