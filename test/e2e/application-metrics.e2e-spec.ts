import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { allocate, allocationRequest } from '../support/applications';
import { expectError } from '../support/expectations';
import { simulatorHostBody } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VMID_MIN = 46_000;
const MEMORY_MB = 768;
/** Proxmox's own text of a failed call, which must never reach a client. */
const UPSTREAM_TEXT = 'upstream-detail-7f3a: /etc/pve/nodes/pve1/lxc cannot be read';

interface Metrics {
  status: string;
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  diskUsed: number;
  diskTotal: number;
  uptime: number;
  netIn: number;
  netOut: number;
}

describe('GET /api/apps/:id/metrics', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let hostId: string;
  /** An application whose container runs in the simulator. */
  let live: { id: string; vmid: number };

  const metrics = (id: string, session?: Session) => {
    const req = t.http().get(`/api/apps/${id}/metrics`);
    return session ? req.set(bearer(session)) : req;
  };

  beforeAll(async () => {
    t = await startFreshApp({ PROXMOX_CALL_TIMEOUT_MS: '1000' });
    sim = await SimulatorFixture.start();
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    const host = await t
      .http()
      .post('/api/proxmox/hosts')
      .set(bearer(admin))
      .send(simulatorHostBody(sim.sim, 'metrics', VMID_MIN, 100));
    expect(host.status).toBe(201);
    hostId = (host.body as { id: string }).id;
    const { application } = await allocate(t, allocationRequest(owner, hostId, 'wiki'));
    live = { id: application.id, vmid: application.vmid ?? 0 };
    // The container the deploy would have made, created behind Proximity's back.
    const guest = await sim.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid: live.vmid,
      hostname: 'wiki',
      memory: MEMORY_MB,
    });
    expect(guest.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(() => sim.control('DELETE', '/_sim/faults'));

  describe('who may read', () => {
    it('401 without a token', async () => {
      expectError(await metrics(live.id), 401);
    });

    it('404 for another user, as for a missing id', async () => {
      const foreign = expectError(await metrics(live.id, other), 404);
      const missing = expectError(
        await metrics('00000000-0000-4000-8000-000000000000', other),
        404,
      );
      expect(foreign.message).toBe(missing.message);
    });

    it('400 for an id that is not a UUID', async () => {
      expectError(await metrics('wiki', owner), 400, ['id']);
    });

    it('the owner and an admin read the same live figures', async () => {
      for (const session of [owner, admin]) {
        const res = await metrics(live.id, session);
        expect(res.status).toBe(200);
        expect(Object.keys(res.body as object).sort()).toEqual(
          [
            'cpu',
            'diskTotal',
            'diskUsed',
            'memoryTotal',
            'memoryUsed',
            'netIn',
            'netOut',
            'status',
            'uptime',
          ].sort(),
        );
      }
    });
  });

  describe('what it reads', () => {
    it("the running container's status/current: memory as configured, traffic in and out", async () => {
      // Traffic grows with uptime: read until the container has run a second.
      const body = await sim.until(
        async () => (await metrics(live.id, owner)).body as Metrics,
        (reading) => reading.uptime > 0,
      );
      expect(body).toMatchObject({ status: 'running', memoryTotal: MEMORY_MB * 1024 * 1024 });
      expect(body.memoryUsed).toBeGreaterThan(0);
      expect(body.memoryUsed).toBeLessThanOrEqual(body.memoryTotal);
      expect(body.diskUsed).toBeLessThanOrEqual(body.diskTotal);
      expect(body.cpu).toBeGreaterThan(0);
      // The simulator counts 1 KiB in and 512 B out per second of uptime: names not swapped.
      expect(body.netIn).toBe(1024 * body.uptime);
      expect(body.netOut).toBe(512 * body.uptime);
    });

    it('a stopped container reads as stopped, with nothing in use', async () => {
      const { application } = await allocate(t, allocationRequest(owner, hostId, 'stopped-app'));
      const created = await sim.control('POST', '/_sim/guests', {
        node: 'pve1',
        vmid: application.vmid,
        hostname: 'stopped-app',
        status: 'stopped',
      });
      expect(created.status).toBe(201);
      const body = (await metrics(application.id, owner)).body as Metrics;
      expect(body).toMatchObject({ status: 'stopped', memoryUsed: 0, uptime: 0, netIn: 0 });
    });
  });

  describe('without a container', () => {
    it('409 while the deploy has not created the container yet', async () => {
      const { application } = await allocate(t, allocationRequest(owner, hostId, 'not-yet'));
      const body = expectError(await metrics(application.id, owner), 409);
      expect(body.message).toBe('the application container does not exist on its node');
    });

    it('409 once a failed deploy gave its VMID back', async () => {
      const { application } = await allocate(t, allocationRequest(owner, hostId, 'released'));
      await t.app
        .get(EntityManager)
        .getConnection()
        .execute('update application set vmid = null, status = ? where id = ?', [
          'error',
          application.id,
        ]);
      const body = expectError(await metrics(application.id, owner), 409);
      expect(body.message).toBe('the application has no container to measure');
    });
  });

  describe('when Proxmox fails', () => {
    const faultOn = (rule: Record<string, unknown>) =>
      sim.control('POST', '/_sim/faults', {
        rules: [{ path: `/lxc/${live.vmid}/status/current$`, ...rule }],
      });

    it('an HTTP 500 is a 502 in our words, without the upstream text', async () => {
      await faultOn({ status: 500, message: UPSTREAM_TEXT });
      const res = await metrics(live.id, owner);
      const body = expectError(res, 502);
      expect(body.message).toBe('Metrics unavailable: Proxmox reported an error');
      expect(JSON.stringify(res.body)).not.toContain('upstream-detail');
      // The upstream text is kept for the operator, in the server log.
      expect(t.logs.text).toContain('upstream-detail-7f3a');
    });

    it('a dropped connection is a 502 saying the host is unreachable', async () => {
      await faultOn({ dropConnection: true });
      const body = expectError(await metrics(live.id, owner), 502);
      expect(body.message).toMatch(/^Metrics unavailable: /);
      expect(body.message).toMatch(/unreachable|did not answer/);
    });

    it('answers again once Proxmox does', async () => {
      await faultOn({ status: 500, message: UPSTREAM_TEXT, times: 1 });
      expectError(await metrics(live.id, owner), 502);
      expect((await metrics(live.id, owner)).status).toBe(200);
    });
  });
});
