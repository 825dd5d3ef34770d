import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/** Start, stop, restart and delete with the simulator's default (Proxmox) timings. */
describe('application lifecycle (default simulator timings)', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let app: AppBody;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: {} });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-lifecycle', 500_000, [31_500, 31_599]);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'cycled' });
    expect(res.status).toBe(202);
    app = await settled(t, owner, (res.body as AppBody).id);
    expect(app.status).toBe('running');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const sql = () => t.app.get(EntityManager).getConnection();
  const act = (session: Session | null, action: string) => {
    const req = t.http().post(`/api/apps/${app.id}/actions`).send({ action });
    return session ? req.set(bearer(session)) : req;
  };
  const container = async () =>
    (await sim.state()).containers.find((c) => c.vmid === app.vmid) ?? null;

  it('refuses anonymous callers (401), other users (404) and unknown actions (400)', async () => {
    expectError(await act(null, 'stop'), 401);
    expectError(await act(other, 'stop'), 404);
    expectError(await act(owner, 'explode'), 400);
    expectError(await t.http().delete(`/api/apps/${app.id}`), 401);
    expectError(await t.http().delete(`/api/apps/${app.id}`).set(bearer(other)), 404);
  });

  it('refuses an action the state forbids with its reason', async () => {
    const body = expectError(await act(owner, 'start'), 409);
    expect(body.message).toBe("application 'cycled' is already running");
  });

  it('stops: one of several concurrent requests is accepted, the app shows stopping, then stopped', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => act(owner, 'stop')));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409]);
    const accepted = answers.find((r) => r.status === 202)!;
    expect(accepted.body).toMatchObject({ operation: { type: 'stop', status: 'queued' } });
    const now = await t.http().get(`/api/apps/${app.id}`).set(bearer(owner));
    expect(['stopping', 'stopped']).toContain((now.body as AppBody).status);
    await reaches(t, owner, app.id, ['stopped']);
    expect((await container())?.status).toBe('stopped');
  });

  it('starts again: running, and its URL answers', async () => {
    expect((await act(owner, 'start')).status).toBe(202);
    const running = await reaches(t, owner, app.id, ['running']);
    expect((await container())?.status).toBe('running');
    expect((await fetch(running!.url!)).status).toBe(200);
  });

  it('restarts on an admin request', async () => {
    const res = await act(admin, 'restart');
    expect(res.status).toBe(202);
    const running = await reaches(t, owner, app.id, ['running']);
    expect((await fetch(running!.url!)).status).toBe(200);
  });

  it('deletes an app whose container was destroyed behind its back: gone, nothing left', async () => {
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'vanished' });
    expect(res.status).toBe(202);
    const lost = await settled(t, owner, (res.body as AppBody).id);
    expect(lost.status).toBe('running');
    const guest = sim.token.nodes.$(lost.node).lxc.$(lost.vmid as number);
    await sim.waitTask(await guest.status.stop.$post());
    await sim.waitTask(await guest.$delete({ purge: true }));

    expect((await t.http().delete(`/api/apps/${lost.id}`).set(bearer(owner))).status).toBe(202);
    await reaches(t, owner, lost.id, ['gone']);
    const state = await sim.state();
    expect(state.forwards.filter((f) => f.comment?.includes(lost.id))).toEqual([]);
    expect(
      await sql().execute('select id from port_allocation where application_id = ?', [lost.id]),
    ).toEqual([]);
  });

  it('deletes: removing at once, then gone with its container, rules, VMID and ports', async () => {
    const res = await t.http().delete(`/api/apps/${app.id}`).set(bearer(owner));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ operation: { type: 'delete' } });
    const now = await t.http().get(`/api/apps/${app.id}`).set(bearer(owner));
    expect([200, 404]).toContain(now.status);
    if (now.status === 200) expect((now.body as AppBody).status).toBe('removing');
    await reaches(t, owner, app.id, ['gone']);
    expect(await container()).toBeNull();
    const state = await sim.state();
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).toEqual([]);
    expect(await sql().execute('select id from application where id = ?', [app.id])).toEqual([]);
    expect(
      await sql().execute('select id from port_allocation where port = ?', [
        app.ports[0].publicPort,
      ]),
    ).toEqual([]);
  });
});
