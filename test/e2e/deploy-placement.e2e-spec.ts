import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { expectError } from '../support/expectations';
import { simulatorHostBody } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const GIB = 1024 ** 3;

/**
 * Placement refusals of POST /api/apps against live node data: a requested
 * node that is unknown or offline is the caller's mistake (400), no online
 * node with room is ours to report (503); none of them allocates anything.
 * Each case has a host of its own, as the node list is cached per host.
 */
describe('POST /api/apps placement refusals', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let nextVmidBlock = 700_000;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
  });
  afterEach(() => sim.control('DELETE', '/_sim/faults'));
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  async function newHost(name: string): Promise<string> {
    const res = await t
      .http()
      .post('/api/proxmox/hosts')
      .set(bearer(admin))
      .send(simulatorHostBody(sim.sim, name, nextVmidBlock));
    nextVmidBlock += 1000;
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  }

  async function nothingAllocated(hostId: string): Promise<void> {
    const sql = t.app.get(EntityManager).getConnection();
    const [counts] = await sql.execute<{ apps: string; ports: string; ops: string }[]>(
      `select (select count(*) from application where host_id = ?) as apps,
              (select count(*) from port_allocation where host_id = ?) as ports,
              (select count(*) from operation) as ops`,
      [hostId, hostId],
    );
    expect(counts).toEqual({ apps: '0', ports: '0', ops: '0' });
    expect((await sim.state()).containers).toEqual([]);
  }

  it('answers 400 on node for a node the host does not have', async () => {
    const hostId = await newHost('placement-unknown');
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'nowhere', hostId, node: 'pve9' });
    const body = expectError(res, 400, ['node']);
    expect(body.details).toEqual([
      { field: 'node', message: "node 'pve9' is not a node of this host" },
    ]);
    await nothingAllocated(hostId);
  });

  it('answers 400 on node for a node that is offline', async () => {
    const hostId = await newHost('placement-offline');
    await sim.control('POST', '/_sim/faults', {
      rules: [
        {
          method: 'GET',
          path: '/nodes$',
          data: [
            { node: 'pve1', status: 'online', maxcpu: 8, maxmem: 32 * GIB, mem: GIB },
            { node: 'pve2', status: 'offline' },
          ],
        },
      ],
    });
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'sleeper', hostId, node: 'pve2' });
    const body = expectError(res, 400, ['node']);
    expect(body.details).toEqual([{ field: 'node', message: "node 'pve2' is offline" }]);
    await nothingAllocated(hostId);
  });

  it('answers 503 when no online node has the memory the application asks for', async () => {
    const hostId = await newHost('placement-full');
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    const current = settings.body as { limits: Record<string, number> };
    // Above what a simulated node has (32 GiB), so that the request passes validation.
    const put = await t
      .http()
      .put('/api/settings')
      .set(bearer(admin))
      .send({ ...settings.body, limits: { ...current.limits, maxMemoryMb: 65_536 } });
    expect(put.status).toBe(200);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'too-big', hostId, resources: { memoryMb: 40_000 } });
    const body = expectError(res, 503);
    expect(body.message).toBe('no node has enough free memory for this application');
    await nothingAllocated(hostId);
  });
});
