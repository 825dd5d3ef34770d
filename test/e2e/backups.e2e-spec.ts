import { getQueueToken } from '@nestjs/bull';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Queue } from 'bull';
import { BackupProcessor, OVERDUE_WORDING } from '../../src/backups/backup.processor';
import { CatalogStore } from '../../src/catalog/catalog.store';
import { Operation, OperationType } from '../../src/operations/operation.entity';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, type OperationBody, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { waitFor } from '../support/spawn-app';
import { startApp, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface BackupBody {
  id: string;
  applicationId: string;
  status: string;
  mode: string;
  compress: string;
  volid: string | null;
  sizeBytes: number | null;
  notes: string | null;
  error: string | null;
  scheduled: boolean;
  catalogVersion: string;
  completedAt: string | null;
  operation?: OperationBody;
}

/** Backups, restores and backup deletes of an application, against the simulator. */
describe('backups', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let app: AppBody;
  let spareVmid = 629_900;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-backups', 620_000, [32_200, 32_299]);
    app = await deploy('backed');
    expect(app.status).toBe('running');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
    await sim.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  async function deploy(hostname: string): Promise<AppBody> {
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname });
    expect(res.status).toBe(202);
    return settled(t, owner, (res.body as AppBody).id);
  }

  const base = (id = app.id) => `/api/apps/${id}/backups`;
  const create = (session: Session | null, body: Record<string, unknown> = {}, id = app.id) => {
    const req = t.http().post(base(id)).send(body);
    return session ? req.set(bearer(session)) : req;
  };
  const restore = (backupId: string, session: Session = owner) =>
    t.http().post(`${base()}/${backupId}/restore`).set(bearer(session));
  const remove = (backupId: string, session: Session = owner) =>
    t.http().delete(`${base()}/${backupId}`).set(bearer(session));
  const read = async (backupId: string, id = app.id): Promise<BackupBody | null> => {
    const res = await t
      .http()
      .get(`${base(id)}/${backupId}`)
      .set(bearer(owner));
    return res.status === 404 ? null : (res.body as BackupBody);
  };
  const operation = async (id: string): Promise<OperationBody> =>
    (await t.http().get(`/api/operations/${id}`).set(bearer(owner))).body as OperationBody;
  const ended = (id: string) =>
    waitFor(
      async () => {
        const op = await operation(id);
        return op.status === 'succeeded' || op.status === 'failed' ? op : null;
      },
      120_000,
      200,
    );
  /** A backup taken to completion; its body once completed. */
  const completedBackup = async (body: Record<string, unknown> = {}): Promise<BackupBody> => {
    const res = await create(owner, body);
    expect(res.status).toBe(202);
    const accepted = res.body as BackupBody;
    expect((await ended(accepted.operation!.id)).status).toBe('succeeded');
    return (await read(accepted.id))!;
  };
  const transitional = () =>
    sql().execute(
      `select count(*)::int as n from backup where status in ('creating', 'restoring', 'deleting')`,
    );
  const container = async (vmid = app.vmid) =>
    (await sim.state()).containers.find((c) => c.vmid === vmid) ?? null;

  it('refuses anonymous callers (401) and other users (404); owner and admin read (200)', async () => {
    expectError(await t.http().get(base()), 401);
    expectError(await create(null), 401);
    expectError(await t.http().get(base()).set(bearer(other)), 404);
    expectError(await create(other), 404);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectError(await restore(unknown, other), 404);
    expectError(await remove(unknown, other), 404);
    expectError(await restore(unknown), 404);
    expectError(await remove(unknown), 404);
    expectError(await t.http().get(`${base()}/${unknown}`).set(bearer(owner)), 404);
    for (const session of [owner, admin]) {
      const res = await t.http().get(base()).set(bearer(session));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], total: 0, page: 1, perPage: 20 });
    }
  });

  it('refuses bad modes, compressions, long notes, unknown fields and malformed ids (400)', async () => {
    expectError(await create(owner, { mode: 'live' }), 400, ['mode']);
    expectError(await create(owner, { compress: 'xz' }), 400, ['compress']);
    expectError(await create(owner, { notes: 'n'.repeat(1001) }), 400, ['notes']);
    expectError(await create(owner, { storage: 'elsewhere' }), 400);
    expectError(await create(owner, {}, 'not-a-uuid'), 400, ['id']);
    expectError(await restore('not-a-uuid'), 400, ['backupId']);
    expectError(await remove('not-a-uuid'), 400, ['backupId']);
    expectError(await t.http().get(`${base()}?perPage=0`).set(bearer(owner)), 400);
    expect(await transitional()).toEqual([{ n: 0 }]);
  });

  it('backs up: creating with its operation, then completed with the archive in storage', async () => {
    const res = await create(owner, {
      mode: 'snapshot',
      compress: 'gzip',
      notes: 'before upgrade',
    });
    expect(res.status).toBe(202);
    const accepted = res.body as BackupBody;
    expect(accepted).toMatchObject({
      applicationId: app.id,
      status: 'creating',
      mode: 'snapshot',
      compress: 'gzip',
      notes: 'before upgrade',
      volid: null,
      scheduled: false,
      operation: { type: 'backup', status: 'queued' },
    });
    expect((await ended(accepted.operation!.id)).status).toBe('succeeded');
    const done = (await read(accepted.id))!;
    expect(done).toMatchObject({
      status: 'completed',
      error: null,
      catalogVersion: expect.any(String),
    });
    expect(done.volid).toMatch(new RegExp(`^local:backup/vzdump-lxc-${app.vmid}-.*\\.tar\\.gz$`));
    expect(done.sizeBytes).toBeGreaterThan(0);
    expect(done.completedAt).not.toBeNull();
    expect((await sim.state()).backups).toContain(done.volid);
    const page = await t.http().get(base()).set(bearer(admin));
    expect(page.body).toMatchObject({ total: 1, items: [{ id: accepted.id }] });
    expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
      status: 'running',
    });
  });

  it('accepts one of a concurrent backup, restore and delete; the others are 409', async () => {
    const backup = await completedBackup();
    const answers = await Promise.all([create(owner), restore(backup.id), remove(backup.id)]);
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    for (const refused of answers.filter((r) => r.status === 409)) expectError(refused, 409);
    const accepted = answers.find((r) => r.status === 202)!.body as {
      operation: OperationBody;
      id?: string;
    };
    expect((await ended(accepted.operation.id)).status).toBe('succeeded');
    await reaches(t, owner, app.id, ['running']);
    expect(await transitional()).toEqual([{ n: 0 }]);
  });

  it('refuses a delete of a backup being created, and any other action meanwhile (409)', async () => {
    await sim.control('POST', '/_sim/latency', { taskMs: 1500 });
    const res = await create(owner);
    expect(res.status).toBe(202);
    const creating = res.body as BackupBody;
    expectError(await remove(creating.id), 409);
    expectError(await create(owner), 409);
    expectError(
      await t
        .http()
        .post(`/api/apps/${app.id}/actions`)
        .set(bearer(owner))
        .send({ action: 'stop' }),
      409,
    );
    expect((await ended(creating.operation!.id)).status).toBe('succeeded');
  });

  it('restores a running application: restoring, then running with its URL answering', async () => {
    const backup = await completedBackup();
    const res = await restore(backup.id, admin);
    expect(res.status).toBe(202);
    const op = (res.body as { operation: OperationBody }).operation;
    expect(op).toMatchObject({ type: 'restore', status: 'queued' });
    expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
      status: 'restoring',
    });
    expect((await read(backup.id))?.status).toBe('restoring');
    expect((await ended(op.id)).status).toBe('succeeded');
    const running = await reaches(t, owner, app.id, ['running']);
    expect((await container())?.status).toBe('running');
    expect((await fetch(running!.url!)).status).toBe(200);
    expect((await read(backup.id))?.status).toBe('completed');
    const log = await t.http().get(`/api/apps/${app.id}/logs?limit=50`).set(bearer(owner));
    const steps = (log.body as { items: { step: string | null }[] }).items.map((l) => l.step);
    expect(steps).toEqual(expect.arrayContaining(['restore_archive', 'verify', 'forward_ports']));
  });

  it('restores a stopped application: it stays stopped', async () => {
    const backup = await completedBackup();
    const stop = await t
      .http()
      .post(`/api/apps/${app.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'stop' });
    expect(stop.status).toBe(202);
    await reaches(t, owner, app.id, ['stopped']);
    const res = await restore(backup.id);
    expect(res.status).toBe(202);
    expect((await ended((res.body as { operation: OperationBody }).operation.id)).status).toBe(
      'succeeded',
    );
    expect((await reaches(t, owner, app.id, ['stopped']))?.status).toBe('stopped');
    expect((await container())?.status).toBe('stopped');
    const start = await t
      .http()
      .post(`/api/apps/${app.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'start' });
    expect(start.status).toBe(202);
    await reaches(t, owner, app.id, ['running']);
  });

  it('deletes a backup: its archive leaves the storage and the row goes', async () => {
    const backup = await completedBackup();
    expect((await sim.state()).backups).toContain(backup.volid);
    const res = await remove(backup.id);
    expect(res.status).toBe(202);
    const op = (res.body as { operation: OperationBody }).operation;
    expect(op).toMatchObject({ type: 'backup_delete' });
    expect((await ended(op.id)).status).toBe('succeeded');
    expect(await read(backup.id)).toBeNull();
    expect((await sim.state()).backups).not.toContain(backup.volid);
  });

  it('deletes a backup whose archive is already gone ("does not exist" tolerated)', async () => {
    const backup = await completedBackup();
    const [storage, volume] = backup.volid!.split(':');
    await sim.token.nodes
      .$(app.node)
      .storage.$(storage)
      .content.$(`${storage}:${volume}`)
      .$delete();
    await sim.until(
      () => sim.state(),
      (s) => !s.backups.includes(backup.volid!),
    );
    // Storages differ: some answer a delete of a missing volume with "does not exist".
    const rules = [
      {
        method: 'DELETE',
        path: '/storage/local/content/',
        status: 500,
        message: `volume '${backup.volid}' does not exist`,
      },
    ];
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
    const res = await remove(backup.id);
    expect(res.status).toBe(202);
    expect((await ended((res.body as { operation: OperationBody }).operation.id)).status).toBe(
      'succeeded',
    );
    expect(await read(backup.id)).toBeNull();
  });

  it('a failed vzdump task ends failed with our wording; nothing stuck; the next backup succeeds', async () => {
    const before = (await sim.state()).backups.length;
    const rules = [
      {
        method: 'POST',
        path: '/vzdump$',
        failTask: 'command tar failed: exit code 2 at /usr/share/perl5/PVE/VZDump.pm',
      },
    ];
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
    const res = await create(owner);
    expect(res.status).toBe(202);
    const accepted = res.body as BackupBody;
    const op = await ended(accepted.operation!.id);
    expect(op).toMatchObject({ status: 'failed', error: 'the backup task failed on Proxmox' });
    expect(op.attempts).toBe(op.maxAttempts);
    const failed = (await read(accepted.id))!;
    expect(failed).toMatchObject({ status: 'failed', error: 'the backup task failed on Proxmox' });
    expect(JSON.stringify(failed)).not.toMatch(/exit code|perl|VZDump/);
    expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
      status: 'running',
    });
    expect(await transitional()).toEqual([{ n: 0 }]);
    expect((await sim.state()).backups).toHaveLength(before);
    expect((await container())?.locked).toBeNull();

    expectError(await restore(accepted.id), 400);

    await sim.control('DELETE', '/_sim/faults');
    const next = await completedBackup();
    expect(next.status).toBe('completed');
    expect((await sim.state()).backups).toContain(next.volid);
  });

  it("waits for another backup on the node, says so in the operation's log, then completes", async () => {
    spareVmid += 1;
    await sim.control('POST', '/_sim/guests', {
      node: app.node,
      vmid: spareVmid,
      hostname: `other-${spareVmid}`,
      status: 'running',
    });
    await sim.control('POST', '/_sim/latency', { taskMs: 2000 });
    const blocker = await sim.token.nodes
      .$(app.node)
      .vzdump.$post({ vmid: String(spareVmid), storage: 'local' });
    const res = await create(owner);
    expect(res.status).toBe(202);
    const accepted = res.body as BackupBody;
    expect((await ended(accepted.operation!.id)).status).toBe('succeeded');
    expect((await sim.taskStatus(blocker)).exitstatus).toBe('OK');
    const log = await t.http().get(`/api/apps/${app.id}/logs?limit=50`).set(bearer(owner));
    const messages = (log.body as { items: { message: string }[] }).items.map((l) => l.message);
    expect(messages).toContain(`waiting for another backup on node ${app.node} to finish`);
    expect((await read(accepted.id))?.status).toBe('completed');
  });

  it('a failed restore leaves the app in error and the backup completed; it can be restored again', async () => {
    const backup = await completedBackup();
    const rules = [{ method: 'POST', path: '/nodes/[^/]+/lxc$', failTask: 'tar: short read' }];
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
    const res = await restore(backup.id);
    expect(res.status).toBe(202);
    const op = await ended((res.body as { operation: OperationBody }).operation.id);
    expect(op).toMatchObject({ status: 'failed', step: 'restore_archive' });
    expect(op.error).not.toMatch(/tar|short read/);
    expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
      status: 'error',
      lastError: op.error,
    });
    expect(await read(backup.id)).toMatchObject({ status: 'completed' });
    expect(await transitional()).toEqual([{ n: 0 }]);
    expect((await container())?.locked).toBeNull();

    await sim.control('DELETE', '/_sim/faults');
    const again = await restore(backup.id);
    expect(again.status).toBe(202);
    expect((await ended((again.body as { operation: OperationBody }).operation.id)).status).toBe(
      'succeeded',
    );
    // The app was in error, not running, before this restore: it ends stopped.
    await reaches(t, owner, app.id, ['stopped']);
    const start = await t
      .http()
      .post(`/api/apps/${app.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'start' });
    expect(start.status).toBe(202);
    await reaches(t, owner, app.id, ['running']);
  });

  it('a failed archive delete leaves the backup completed with our wording', async () => {
    const backup = await completedBackup();
    const rules = [
      {
        method: 'DELETE',
        path: '/storage/local/content/',
        status: 500,
        message: 'storage offline',
      },
    ];
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
    const res = await remove(backup.id);
    expect(res.status).toBe(202);
    const op = await ended((res.body as { operation: OperationBody }).operation.id);
    expect(op.status).toBe('failed');
    expect(op.error).not.toContain('offline');
    expect(await read(backup.id)).toMatchObject({ status: 'completed', error: op.error });
    expect((await sim.state()).backups).toContain(backup.volid);
    expect(await transitional()).toEqual([{ n: 0 }]);
  });

  it('answers 503 and changes nothing when Redis is unreachable', async () => {
    const backup = await completedBackup();
    const cut = await startApp({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const count = () =>
        sql().execute(`select count(*)::int as n from backup where application_id = ?`, [app.id]);
      const before = await count();
      expectError(await cut.http().post(base()).set(bearer(owner)).send({}), 503);
      expect(await count()).toEqual(before);
      expectError(await cut.http().post(`${base()}/${backup.id}/restore`).set(bearer(owner)), 503);
      expectError(await cut.http().delete(`${base()}/${backup.id}`).set(bearer(owner)), 503);
      expect(await read(backup.id)).toMatchObject({ status: 'completed' });
      expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
        status: 'running',
        operation: null,
      });
      const active = await sql().execute(
        `select count(*)::int as n from operation where application_id = ? and status in ('queued', 'running')`,
        [app.id],
      );
      expect(active).toEqual([{ n: 0 }]);
    } finally {
      await cut.close();
    }
  });

  it('a retry waits on the vzdump task an earlier attempt started, and records its archive', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Backup));
    const before = (await sim.state()).backups;
    await queue.pause();
    let accepted: BackupBody;
    let upid: string;
    try {
      accepted = (await create(owner)).body as BackupBody;
      // As if a worker had started this task and died: the row holds its UPID.
      await sim.control('POST', '/_sim/latency', { taskMs: 1000 });
      upid = await sim.token.nodes
        .$(app.node)
        .vzdump.$post({ vmid: String(app.vmid), storage: 'local', compress: 'lzo' });
      await sql().execute(`update backup set task_upid = ? where id = ?`, [upid, accepted.id]);
    } finally {
      await queue.resume();
    }
    expect((await ended(accepted.operation!.id)).status).toBe('succeeded');
    const done = (await read(accepted.id))!;
    const added = (await sim.state()).backups.filter((v) => !before.includes(v));
    expect(added).toEqual([done.volid]);
    // The archive is the planted task's (lzo), not one the job would have started (zstd).
    expect(done.volid).toMatch(/\.tar\.lzo$/);
    expect((await sim.taskLog(upid)).join('\n')).toContain(done.volid!.split('/')[1]);
  });

  it('a wait for the vzdump task that fails (dropped connections) is retried on the same task: one archive', async () => {
    const before = (await sim.state()).backups;
    await sim.control('POST', '/_sim/latency', { taskMs: 300 });
    const rules = [
      // Twice: a read is retried once after a dropped connection.
      { method: 'GET', path: '/tasks/[^/]*vzdump[^/]*/status$', dropConnection: true, times: 2 },
    ];
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
    const accepted = (await create(owner)).body as BackupBody;
    const op = await ended(accepted.operation!.id);
    expect(op).toMatchObject({ status: 'succeeded', attempts: 2 });
    const done = (await read(accepted.id))!;
    expect((await sim.state()).backups.filter((v) => !before.includes(v))).toEqual([done.volid]);
  });

  it('ends a backup at once when the catalog app is gone from the catalog', async () => {
    const store = t.app.get(CatalogStore);
    const before = store.snapshot;
    store.replace({ apps: before.apps.filter((a) => a.id !== 'whoami'), errors: [] });
    try {
      const res = await create(owner);
      expect(res.status).toBe(202);
      const accepted = res.body as BackupBody;
      const op = await ended(accepted.operation!.id);
      expect(op).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: "the application's catalog app is no longer in the catalog",
      });
      expect((await read(accepted.id))?.status).toBe('failed');
    } finally {
      store.replace({ apps: [...before.apps], errors: [...before.errors] });
    }
  });

  it('ends an overdue backup failed and an overdue restore with the app in error', async () => {
    const backup = await completedBackup();
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Backup));
    const handler = t.app.get(BackupProcessor);
    expect(handler.deadlineMs(OperationType.Backup)).toBe(4 * 3600 * 1000);
    await queue.pause();
    try {
      const stuck = (await create(owner)).body as BackupBody;
      const em = t.app.get(EntityManager).fork();
      await handler.end(await em.findOneOrFail(Operation, { id: stuck.operation!.id }));
      expect(await read(stuck.id)).toMatchObject({
        status: 'failed',
        error: OVERDUE_WORDING[OperationType.Backup],
      });
      expect(await operation(stuck.operation!.id)).toMatchObject({ status: 'failed' });

      const res = await restore(backup.id);
      expect(res.status).toBe(202);
      const op = (res.body as { operation: OperationBody }).operation;
      await handler.end(await em.findOneOrFail(Operation, { id: op.id }));
      expect((await read(backup.id))?.status).toBe('completed');
      expect((await t.http().get(`/api/apps/${app.id}`).set(bearer(owner))).body).toMatchObject({
        status: 'error',
        lastError: OVERDUE_WORDING[OperationType.Restore],
      });
      expect(await transitional()).toEqual([{ n: 0 }]);
    } finally {
      await queue.resume();
    }
    const start = await t
      .http()
      .post(`/api/apps/${app.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'start' });
    expect(start.status).toBe(202);
    await reaches(t, owner, app.id, ['running']);
  });

  it('deleting an application removes its archives; with keepBackups=true they stay', async () => {
    expectError(
      await t.http().delete(`/api/apps/${app.id}?keepBackups=maybe`).set(bearer(owner)),
      400,
      ['keepBackups'],
    );
    const archives = async (id: string) =>
      (
        (await t.http().get(base(id)).set(bearer(owner))).body as { items: BackupBody[] }
      ).items.flatMap((b) => (b.volid ? [b.volid] : []));
    const mine = await archives(app.id);
    expect(mine.length).toBeGreaterThan(0);
    const res = await t.http().delete(`/api/apps/${app.id}`).set(bearer(owner));
    expect(res.status).toBe(202);
    await reaches(t, owner, app.id, ['gone']);
    const left = (await sim.state()).backups;
    for (const volid of mine) expect(left).not.toContain(volid);

    const kept = await deploy('kept');
    const keptBackup = await (async () => {
      const r = await create(owner, {}, kept.id);
      expect(r.status).toBe(202);
      const b = r.body as BackupBody;
      expect((await ended(b.operation!.id)).status).toBe('succeeded');
      return (await read(b.id, kept.id))!;
    })();
    const del = await t.http().delete(`/api/apps/${kept.id}?keepBackups=true`).set(bearer(owner));
    expect(del.status).toBe(202);
    await reaches(t, owner, kept.id, ['gone']);
    expect((await sim.state()).backups).toContain(keptBackup.volid);
    expect(await container(kept.vmid)).toBeNull();
    expect(
      await sql().execute(`select count(*)::int as n from backup where application_id = ?`, [
        kept.id,
      ]),
    ).toEqual([{ n: 0 }]);
  });
});
