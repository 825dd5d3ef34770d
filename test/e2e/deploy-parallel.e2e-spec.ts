import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const PARALLEL = 100;

/** Deploy requests at once: the database decides the races, the workers run them side by side. */
describe('parallel deployments', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    t = await startFreshApp({ DATABASE_POOL_MAX: '20', DEPLOY_CONCURRENCY: '8' });
    // Shortened task latency and DHCP lease: a hundred deployments run here.
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-parallel', 400_000, [31_200, 31_499]);
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    const body = settings.body as { limits: Record<string, number> };
    const put = await t
      .http()
      .put('/api/settings')
      .set(bearer(admin))
      .send({ ...settings.body, limits: { ...body.limits, maxAppsPerUser: PARALLEL + 10 } });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const post = (hostname: string) =>
    t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname, resources: { memoryMb: 128 } });

  it('gives one hostname to exactly one of 50 parallel requests', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => post('contested')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const res of answers.filter((r) => r.status === 409)) expectError(res, 409);
    const winner = answers.find((r) => r.status === 202)!.body as AppBody;
    expect((await settled(t, user, winner.id)).status).toBe('running');
  });

  it(`runs ${PARALLEL} parallel deployments to distinct VMIDs and ports, every URL answering`, async () => {
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => post(`parallel-${i}`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(PARALLEL).fill(202));
    const apps = await Promise.all(
      answers.map((r) => settled(t, user, (r.body as AppBody).id, 600_000)),
    );
    expect(apps.filter((a) => a.status !== 'running')).toEqual([]);
    expect(new Set(apps.map((a) => a.vmid)).size).toBe(PARALLEL);
    const ports = apps.flatMap((a) => a.ports.map((p) => `${p.publicPort}/${p.protocol}`));
    expect(new Set(ports).size).toBe(ports.length);
    const pages = await Promise.all(apps.map((a) => fetch(a.url!)));
    expect(pages.map((p) => p.status)).toEqual(Array(PARALLEL).fill(200));
    const state = await sim.state();
    const ours = state.containers.filter((c) => c.hostname.startsWith('parallel-'));
    expect(ours).toHaveLength(PARALLEL);
  }, 900_000);
});
