import { EntityManager } from '@mikro-orm/postgresql';
import type { FaultRuleInput } from '../pve-simulator/faults/fault-rules';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startApp, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const UPSTREAM_TEXT = 'upstream-text-that-must-stay-in-the-server-log';

/**
 * Every step of the deploy job failing for good ends in `error` after exactly
 * maxAttempts attempts with nothing left behind; a failure that happens once
 * is retried into a running application with one container.
 */
describe('deploy failures', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let counter = 0;

  beforeAll(async () => {
    t = await startFreshApp({ PROXMOX_CALL_TIMEOUT_MS: '1000' });
    // Shortened task latency and DHCP lease: this file runs many deployments.
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-failures', 300_000, [31_100, 31_199]);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  const deploy = async (): Promise<AppBody> => {
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `failing-${counter}` });
    expect(res.status).toBe(202);
    return res.body as AppBody;
  };

  const inject = async (rules: FaultRuleInput[]) => {
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  /** Nothing of the application is left: no container, rule, VMID or port. */
  const expectNothingLeft = async (app: AppBody) => {
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toEqual([]);
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).toEqual([]);
    const rows = await sql().execute<{ vmid: number | null }[]>(
      'select vmid from application where id = ?',
      [app.id],
    );
    expect(rows).toEqual([{ vmid: null }]);
    const ports = await sql().execute('select port from port_allocation where application_id = ?', [
      app.id,
    ]);
    expect(ports).toEqual([]);
  };

  // Command lines arrive quoted (twice, through the hop to the node): patterns allow for the quotes.
  const steps: [string, string, FaultRuleInput][] = [
    [
      'create_container',
      'a failed task',
      { method: 'POST', path: '/nodes/[^/]+/lxc$', failTask: UPSTREAM_TEXT },
    ],
    [
      'start_container',
      'HTTP 500',
      { method: 'POST', path: '/status/start$', status: 500, message: UPSTREAM_TEXT },
    ],
    ['wait_for_address', 'a timeout', { method: 'GET', path: '/interfaces$', delayMs: 2500 }],
    ['install_docker', 'a dropped SSH connection', { sshCommand: 'apt-get', dropConnection: true }],
    [
      'write_files',
      'a failed command',
      { sshCommand: 'proximity-tmp', status: 1, message: UPSTREAM_TEXT },
    ],
    [
      'compose_up',
      'a failed command',
      { sshCommand: 'up.{1,12}-d', status: 1, message: UPSTREAM_TEXT },
    ],
    ['verify', 'a dropped SSH connection', { sshCommand: 'ps.{1,12}-a', dropConnection: true }],
    [
      'forward_ports',
      'a dropped SSH connection',
      { sshCommand: 'add.{1,12}rule', dropConnection: true },
    ],
  ];

  it.each(steps)(
    'a permanent failure of %s (%s) ends in error after maxAttempts, nothing left',
    async (step, _how, rule) => {
      await inject([rule]);
      const app = await deploy();
      const done = await settled(t, user, app.id);
      expect(done.status).toBe('error');
      expect(done.lastError).toEqual(expect.any(String));
      expect(done.lastError).not.toContain(UPSTREAM_TEXT);
      const op = await operationOf(t, user, app.id);
      expect(op).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 3, step });
      expect(op.error).toBe(done.lastError);
      await expectNothingLeft(app);
      // Its container was given back: starting it is refused in words, deleting it is not.
      const start = await t
        .http()
        .post(`/api/apps/${app.id}/actions`)
        .set(bearer(user))
        .send({ action: 'start' });
      expectError(start, 409);
      expect(start.body.message).toBe(
        `application '${app.hostname}' has no container (its deployment failed); delete it and deploy again`,
      );
      const logs = await t.http().get(`/api/apps/${app.id}/logs?limit=500`).set(bearer(user));
      const messages = (logs.body as { items: { message: string }[] }).items.map((l) => l.message);
      expect(messages.filter((m) => m.startsWith(`${step} failed`))).toHaveLength(3);
      expect(JSON.stringify(logs.body)).not.toContain(UPSTREAM_TEXT);
      if (rule.method && (rule.message ?? rule.failTask)) {
        // Proxmox's own text reaches the server log, with the operation id, and nowhere else.
        const raw = t.logs.entries().filter((e) => e.operationId === op.id && e.failure);
        expect(JSON.stringify(raw)).toContain(UPSTREAM_TEXT);
      }
    },
  );

  it('a failure that happens once is retried into a running app with one container', async () => {
    await inject([{ method: 'POST', path: '/status/start$', status: 500, times: 1 }]);
    const app = await deploy();
    const done = await settled(t, user, app.id);
    expect(done.status).toBe('running');
    expect(await operationOf(t, user, app.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toHaveLength(1);
    expect((await fetch(done.url!)).status).toBe(200);
    // The second attempt resumed at the step that failed: the container was created once.
    const logs = await t.http().get(`/api/apps/${app.id}/logs?limit=500`).set(bearer(user));
    const messages = (logs.body as { items: { message: string }[] }).items.map((l) => l.message);
    expect(messages.filter((m) => m === 'create_container done')).toHaveLength(1);
    expect(messages.filter((m) => m === 'start_container done')).toHaveLength(1);
  });

  it('a VMID taken by another guest after the pick is replaced by a free one', async () => {
    // The create waits a moment: time for a guest from outside to take the VMID.
    await inject([{ method: 'POST', path: '/nodes/[^/]+/lxc$', delayMs: 1000, times: 1 }]);
    const app = await deploy();
    const guest = await sim.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid: app.vmid,
      hostname: 'intruder',
    });
    expect(guest.status).toBe(201);
    const done = await settled(t, user, app.id);
    expect(done.status).toBe('running');
    expect(done.vmid).not.toBe(app.vmid);
    const state = await sim.state();
    expect(state.containers.filter((c) => c.vmid === app.vmid).map((c) => c.hostname)).toEqual([
      'intruder',
    ]);
  });

  it('a VMID that conflicts on every attempt ends in error with the new VMID and ports released', async () => {
    await inject([
      {
        method: 'POST',
        path: '/nodes/[^/]+/lxc$',
        status: 400,
        message: 'unable to create CT - CT already exists on node',
      },
    ]);
    const app = await deploy();
    const done = await settled(t, user, app.id);
    expect(done.status).toBe('error');
    expect(await operationOf(t, user, app.id)).toMatchObject({ status: 'failed', attempts: 3 });
    await expectNothingLeft(app);
  });

  it('a stop that keeps failing ends in error after maxAttempts, the container untouched', async () => {
    const app = await settled(t, user, (await deploy()).id);
    expect(app.status).toBe('running');
    await inject([
      { method: 'POST', path: '/status/(shutdown|stop)$', status: 500, message: UPSTREAM_TEXT },
    ]);
    const res = await t.http().post(`/api/apps/${app.id}/actions`).set(bearer(user)).send({
      action: 'stop',
    });
    expect(res.status).toBe(202);
    const done = await reaches(t, user, app.id, ['error']);
    expect(done!.lastError).toEqual(expect.any(String));
    expect(done!.lastError).not.toContain(UPSTREAM_TEXT);
    const ops = await t
      .http()
      .get(`/api/operations?applicationId=${app.id}&status=failed`)
      .set(bearer(user));
    expect((ops.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ type: 'stop', attempts: 3, step: 'stop_container' }),
    ]);
    const state = await sim.state();
    expect(state.containers.find((c) => c.vmid === app.vmid)?.status).toBe('running');
  });

  it('answers 503 with nothing allocated when Redis is unreachable', async () => {
    const cut = await startApp({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await cut
        .http()
        .post('/api/apps')
        .set(bearer(user))
        .send({ catalogId: 'whoami', hostname: 'no-queue' });
      expectError(res, 503);
      const rows = await sql().execute("select id from application where hostname = 'no-queue'");
      expect(rows).toEqual([]);
      const ports = await sql().execute(
        'select p.id from port_allocation p left join application a on a.id = p.application_id where a.id is null',
      );
      expect(ports).toEqual([]);
      // A lifecycle action is undone the same way: no operation, the status as it was.
      const running = await settled(t, user, (await deploy()).id);
      expectError(
        await cut
          .http()
          .post(`/api/apps/${running.id}/actions`)
          .set(bearer(user))
          .send({ action: 'stop' }),
        503,
      );
      const after = await t.http().get(`/api/apps/${running.id}`).set(bearer(user));
      expect(after.body).toMatchObject({ status: 'running', operation: null });
    } finally {
      await cut.close();
    }
  });
});
