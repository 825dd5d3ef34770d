import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/**
 * On a cluster an application answers on the node that runs it: the
 * simulator's pve2 has an address of its own (127.0.0.2; the host is
 * registered at pve1's 127.0.0.1), and its forwarded ports listen only there.
 */
describe('the application URL points at its node', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let hostId: string;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ nodeAddresses: { pve2: '127.0.0.2' } });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-nodes', 600_000, [31_800, 31_849]);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  async function deployOn(node: string, hostname: string): Promise<AppBody> {
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname, node });
    expect(res.status).toBe(202);
    const done = await settled(t, user, (res.body as AppBody).id);
    expect(done).toMatchObject({ status: 'running', lastError: null });
    return done;
  }

  async function answers(url: string): Promise<string> {
    const page = await fetch(url);
    return `${page.status} ${await page.text()}`;
  }

  it("before any sync, takes the node's address from the cluster", async () => {
    const app = await deployOn('pve2', 'on-pve2-unsynced');
    const port = app.ports[0].publicPort;
    expect(app.url).toBe(`http://127.0.0.2:${port}`);
    expect(await answers(app.url!)).toBe('200 whoami');
    const forward = (await sim.state()).forwards.find((f) => f.publicPort === port);
    expect(forward?.node).toBe('pve2');
  });

  it('stores every node address at sync and uses it: pve2 gets 127.0.0.2, pve1 127.0.0.1', async () => {
    const sync = await t.http().post(`/api/proxmox/hosts/${hostId}/sync`).set(bearer(admin));
    expect(sync.status).toBe(200);
    const rows = await t.app
      .get(EntityManager)
      .getConnection()
      .execute<{ name: string; address: string | null }[]>(
        'select name, address from proxmox_node where host_id = ? order by name',
        [hostId],
      );
    expect(rows).toEqual([
      { name: 'pve1', address: '127.0.0.1' },
      { name: 'pve2', address: '127.0.0.2' },
    ]);

    const onPve2 = await deployOn('pve2', 'on-pve2');
    expect(onPve2.url).toBe(`http://127.0.0.2:${onPve2.ports[0].publicPort}`);
    expect(await answers(onPve2.url!)).toBe('200 whoami');
    const onPve1 = await deployOn('pve1', 'on-pve1');
    expect(onPve1.url).toBe(`http://127.0.0.1:${onPve1.ports[0].publicPort}`);
    expect(await answers(onPve1.url!)).toBe('200 whoami');
  });
});
