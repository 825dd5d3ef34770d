import { EntityManager } from '@mikro-orm/postgresql';
import type { FaultRuleInput } from '../pve-simulator/faults/fault-rules';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface CloneBody extends AppBody {
  ownerId: string;
  catalogId: string;
  environment: Record<string, string>;
  resources: { cores: number; memoryMb: number; diskGb: number };
  operation: AppBody['operation'] & { type: string; applicationId: string };
}

/** POST /api/apps/:id/clone: who may, what it refuses, and what a clone is once it runs. */
describe('clone an application', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let source: AppBody;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-clone', 640_000, [32_000, 32_099]);
    source = await deploy(owner, { catalogId: 'whoami', hostname: 'clone-source' });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  async function deploy(session: Session, body: Record<string, unknown>): Promise<AppBody> {
    const res = await t.http().post('/api/apps').set(bearer(session)).send(body);
    expect(res.status).toBe(202);
    const done = await settled(t, session, (res.body as AppBody).id);
    expect(done.status).toBe('running');
    return done;
  }

  const clone = (id: string, body: unknown, session: Session | null = owner) => {
    const req = t
      .http()
      .post(`/api/apps/${id}/clone`)
      .send(body as object);
    return session ? req.set(bearer(session)) : req;
  };

  const cloned = async (id: string, hostname: string, session = owner): Promise<CloneBody> => {
    const res = await clone(id, { hostname }, session);
    expect(res.status).toBe(202);
    return res.body as CloneBody;
  };

  const finished = async (id: string, session = owner) =>
    (await reaches(t, session, id, ['running', 'error'])) as CloneBody;

  const inject = async (rules: FaultRuleInput[]) => {
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  const containerOf = async (vmid: number | null) =>
    (await sim.state()).containers.find((c) => c.vmid === vmid) ?? null;

  const messages = async (id: string, session = owner) => {
    const res = await t.http().get(`/api/apps/${id}/logs?limit=500`).set(bearer(session));
    expect(res.status).toBe(200);
    return (res.body as { items: { message: string }[] }).items.map((l) => l.message);
  };

  it('clones a running app: its own VMID, ports and URL, the snapshot gone, the source untouched', async () => {
    const accepted = await cloned(source.id, 'clone-copy');
    expect(accepted).toMatchObject({
      status: 'cloning',
      hostname: 'clone-copy',
      catalogId: 'whoami',
      ownerId: owner.userId,
      operation: { type: 'clone', status: 'queued', applicationId: accepted.id },
    });
    expect(accepted.id).not.toBe(source.id);
    expect(accepted.vmid).not.toBe(source.vmid);

    const done = await finished(accepted.id);
    expect(done.status).toBe('running');
    expect(done.url).not.toBe(source.url);
    expect(done.ports.map((p) => p.publicPort)).not.toContain(source.ports[0].publicPort);
    expect((await fetch(done.url!)).status).toBe(200);

    const copy = await containerOf(done.vmid);
    expect(copy).toMatchObject({ hostname: 'clone-copy', status: 'running' });
    expect(copy!.tags).toContain(`proximity-${done.id}`);
    expect(copy!.tags).not.toContain(`proximity-${source.id}`);
    const original = await containerOf(source.vmid);
    expect(original).toMatchObject({ status: 'running', snapshots: [], locked: null });
    // The running source was copied from a snapshot, since removed.
    await expect(sim.latestTask('pve1', source.vmid!, 'vzsnapshot')).resolves.toEqual(
      expect.any(String),
    );
    await expect(sim.latestTask('pve1', source.vmid!, 'vzdelsnapshot')).resolves.toEqual(
      expect.any(String),
    );
    expect((await fetch(source.url!)).status).toBe(200);
    const after = await t.http().get(`/api/apps/${source.id}`).set(bearer(owner));
    expect(after.body).toMatchObject({ status: 'running', url: source.url });

    const lines = await messages(done.id);
    for (const step of ['snapshot_source', 'clone_container', 'remove_snapshot', 'configure']) {
      expect(lines).toContain(`${step} done`);
    }
    expect(lines).toContain(`cloned; it answers at ${done.url}`);
  });

  it('two clones of one running source at once both end running, each with its own container', async () => {
    // Slow tasks: each clone meets the source locked by the other's snapshot or clone task.
    const latency = (await sim.control('GET', '/_sim/latency')).body as Record<string, number>;
    await sim.control('POST', '/_sim/latency', { taskMs: 1500 });
    const [a, b] = await Promise.all([cloned(source.id, 'twin-a'), cloned(source.id, 'twin-b')]);
    const [doneA, doneB] = await Promise.all([finished(a.id), finished(b.id)]);
    await sim.control('POST', '/_sim/latency', { taskMs: latency.taskMs });
    expect([doneA.status, doneB.status]).toEqual(['running', 'running']);
    expect(doneA.vmid).not.toBe(doneB.vmid);
    // The locks were waited out inside the steps, not by failing attempts.
    const attempts = await sql().execute<{ attempts: number }[]>(
      'select attempts from operation where application_id in (?, ?)',
      [a.id, b.id],
    );
    expect(attempts).toEqual([{ attempts: 1 }, { attempts: 1 }]);
    expect((await fetch(doneA.url!)).status).toBe(200);
    expect((await fetch(doneB.url!)).status).toBe(200);
    expect(await containerOf(source.vmid)).toMatchObject({ snapshots: [], locked: null });
  });

  it('clones a stopped app from its current state, without a snapshot; the clone runs', async () => {
    const stoppedSource = await deploy(owner, { catalogId: 'whoami', hostname: 'clone-stopped' });
    const stop = await t
      .http()
      .post(`/api/apps/${stoppedSource.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'stop' });
    expect(stop.status).toBe(202);
    await reaches(t, owner, stoppedSource.id, ['stopped']);

    const done = await finished((await cloned(stoppedSource.id, 'clone-of-stopped')).id);
    expect(done.status).toBe('running');
    expect((await fetch(done.url!)).status).toBe(200);
    expect(await containerOf(stoppedSource.vmid)).toMatchObject({
      status: 'stopped',
      snapshots: [],
    });
    await expect(sim.latestTask('pve1', stoppedSource.vmid!, 'vzsnapshot')).rejects.toThrow(
      /no vzsnapshot task/,
    );
  });

  it('refuses anonymous callers (401) and other users (404); an admin clones for the owner', async () => {
    expectError(await clone(source.id, { hostname: 'anon-copy' }, null), 401);
    expectError(await clone(source.id, { hostname: 'other-copy' }, other), 404);
    const rows = await sql().execute(
      "select id from application where hostname in ('anon-copy', 'other-copy')",
    );
    expect(rows).toEqual([]);

    const byAdmin = await cloned(source.id, 'admin-copy', admin);
    // The clone holds the source's root password and secrets: it stays with their owner.
    expect(byAdmin.ownerId).toBe(owner.userId);
    expect((await finished(byAdmin.id, admin)).status).toBe('running');
  });

  it('validates the body (400)', async () => {
    expectError(await clone(source.id, {}), 400, ['hostname']);
    expectError(await clone(source.id, { hostname: 'Not_A_Label' }), 400, ['hostname']);
    expectError(await clone(source.id, { hostname: '-dash' }), 400, ['hostname']);
    expectError(await clone(source.id, { hostname: 'ok-name', vmid: 5 }), 400);
    expectError(await clone('not-a-uuid', { hostname: 'ok-name' }), 400);
  });

  it('refuses a taken hostname (409) and leaves nothing allocated', async () => {
    const body = expectError(await clone(source.id, { hostname: 'clone-source' }), 409);
    expect(body.message).toBe("hostname 'clone-source' is taken");
    const rows = await sql().execute(
      "select count(*)::int as n from application where lower(hostname) = 'clone-source'",
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('refuses a source in a transitional state (409)', async () => {
    const busy = await deploy(owner, { catalogId: 'whoami', hostname: 'clone-busy' });
    // The shutdown waits: the source shows `stopping` meanwhile.
    await inject([{ method: 'POST', path: '/status/shutdown$', delayMs: 3000, times: 1 }]);
    const stop = await t
      .http()
      .post(`/api/apps/${busy.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'stop' });
    expect(stop.status).toBe(202);
    const body = expectError(await clone(busy.id, { hostname: 'busy-copy' }), 409);
    expect(body.message).toBe(
      "application 'clone-busy' is stopping; try again when that has finished",
    );
    await reaches(t, owner, busy.id, ['stopped']);
  });

  it('refuses past maxAppsPerUser (409)', async () => {
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    const body = settings.body as { limits: Record<string, number> };
    const owned = await sql().execute<{ n: number }[]>(
      'select count(*)::int as n from application where owner_id = ?',
      [owner.userId],
    );
    const limited = { ...settings.body, limits: { ...body.limits, maxAppsPerUser: owned[0].n } };
    expect((await t.http().put('/api/settings').set(bearer(admin)).send(limited)).status).toBe(200);
    try {
      const refused = expectError(await clone(source.id, { hostname: 'over-quota' }), 409);
      expect(refused.message).toBe(`the limit of ${owned[0].n} applications per user is reached`);
    } finally {
      await t.http().put('/api/settings').set(bearer(admin)).send(settings.body);
    }
  });

  it('keeps the source from lifecycle actions and removal while its clone runs (409)', async () => {
    // The clone task waits: the clone is under way meanwhile.
    await inject([{ method: 'POST', path: '/clone$', delayMs: 3000, times: 1 }]);
    const copy = await cloned(source.id, 'guarded-copy');
    const stop = await t
      .http()
      .post(`/api/apps/${source.id}/actions`)
      .set(bearer(owner))
      .send({ action: 'stop' });
    expect(expectError(stop, 409).message).toBe(
      "application 'clone-source' is being cloned; try again when the clone has finished",
    );
    expectError(await t.http().delete(`/api/apps/${source.id}`).set(bearer(owner)), 409);
    const after = await t.http().get(`/api/apps/${source.id}`).set(bearer(owner));
    expect(after.body).toMatchObject({ status: 'running', operation: null });
    expect((await finished(copy.id)).status).toBe('running');
  });

  it('copies the environment and root password, secrets sealed and never in a log', async () => {
    const password = 'clone-secret-pass-8531';
    const secretSource = await deploy(owner, {
      catalogId: 'minio',
      hostname: 'clone-minio',
      environment: { ROOT_PASSWORD: password },
    });
    const done = await finished((await cloned(secretSource.id, 'clone-minio-copy')).id);
    expect(done.status).toBe('running');
    expect(done.environment).toEqual({ ROOT_PASSWORD: '********' });
    expect(done.environment).toEqual((secretSource as CloneBody).environment);
    const credentials = async (id: string) =>
      (await t.http().get(`/api/apps/${id}/credentials`).set(bearer(owner))).body as {
        rootPassword: string;
      };
    expect((await credentials(done.id)).rootPassword).toBe(
      (await credentials(secretSource.id)).rootPassword,
    );
    const sealed = await sql().execute<{ secret_environment: string }[]>(
      'select secret_environment::text from application where id = ?',
      [done.id],
    );
    expect(sealed[0].secret_environment).not.toContain(password);
    expect(JSON.stringify(await messages(done.id))).not.toContain(password);
    expect(JSON.stringify(t.logs.entries())).not.toContain(password);
  });
});
