import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { simulatorHostBody } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

const UPSTREAM_TEXT = 'ssh: connect to host 10.9.8.7 port 22: Connection refused';

/**
 * The host test reaches every online node the way deploys do: commands for a
 * container's node are relayed through the host's SSH endpoint.
 */
describe('host test: SSH to each node of the cluster', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let hostId: string;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ nodes: ['pve1', 'pve2'] });
    admin = await loginAdmin(t);
    const res = await t
      .http()
      .post('/api/proxmox/hosts')
      .set(bearer(admin))
      .send(simulatorHostBody(sim.sim, 'pve-relay', 687_000));
    expect(res.status).toBe(201);
    hostId = (res.body as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const testHost = () => t.http().post(`/api/proxmox/hosts/${hostId}/test`).set(bearer(admin));

  it('reports every online node reached through the SSH endpoint', async () => {
    const res = await testHost();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      version: expect.any(String),
      latencyMs: expect.any(Number),
      ssh: {
        ok: true,
        nodes: [
          { node: 'pve1', ok: true },
          { node: 'pve2', ok: true },
        ],
      },
    });
  });

  it('reports a node the SSH endpoint cannot relay to, in plain words', async () => {
    const rule = { sshCommand: "^'ssh' .*'--' 'pve2' ", status: 255, message: UPSTREAM_TEXT };
    expect((await sim.control('POST', '/_sim/faults', { rules: [rule] })).status).toBe(201);
    const res = await testHost();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: false,
      version: expect.any(String),
      latencyMs: expect.any(Number),
      ssh: {
        ok: false,
        reason: "SSH does not reach node pve2 through the host's SSH endpoint",
        nodes: [
          { node: 'pve1', ok: true },
          {
            node: 'pve2',
            ok: false,
            reason: "the host's SSH endpoint could not relay a command to this node",
          },
        ],
      },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/10\.9\.8\.7|refused|127\.0\.0\.1/);
  });
});
