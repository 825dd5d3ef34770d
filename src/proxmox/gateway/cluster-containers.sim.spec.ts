import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ProxmoxApiGateway } from './proxmox-api.gateway';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';

describe('ProxmoxApiGateway.listClusterContainers against the simulator', () => {
  let fixture: SimulatorFixture;
  const gateway = new ProxmoxApiGateway();
  SimulatorFixture.perFile((f) => (fixture = f), { nodes: ['pve1', 'pve2'] });

  const connection = (): ProxmoxConnection => ({
    host: '127.0.0.1',
    port: fixture.sim.port,
    auth: { tokenId: fixture.sim.tokenId, tokenSecret: fixture.sim.tokenSecret },
    tls: { fingerprint: fixture.sim.tlsFingerprint },
    timeoutMs: 2000,
  });

  it('lists every container of every node with its resources from one read', async () => {
    await fixture.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid: 700,
      hostname: 'alpha',
      status: 'running',
      cores: 2,
      memory: 1024,
    });
    await fixture.control('POST', '/_sim/guests', {
      node: 'pve2',
      vmid: 701,
      hostname: 'beta',
      status: 'stopped',
    });
    // Fresh guests have no statistics until pvestatd's next tick.
    const fresh = await gateway.listClusterContainers(connection());
    expect(fresh.find((c) => c.vmid === 700)).toMatchObject({
      hostname: null,
      status: 'unknown',
      cores: null,
    });
    await fixture.control('POST', '/_sim/latency', { statsIntervalMs: 20 });
    await fixture.until(
      () => gateway.listClusterContainers(connection()),
      (list) => list.every((c) => c.hostname !== null),
    );
    const callsBefore = (await fixture.state()).calls;

    const containers = await gateway.listClusterContainers(connection());

    expect((await fixture.state()).calls - callsBefore).toBe(1);
    const byVmid = new Map(containers.map((c) => [c.vmid, c]));
    expect(byVmid.get(700)).toMatchObject({
      node: 'pve1',
      hostname: 'alpha',
      cores: 2,
      memoryBytes: 1024 * 1024 * 1024,
    });
    expect(byVmid.get(700)?.status).toBe('running');
    expect(byVmid.get(701)).toMatchObject({ node: 'pve2', hostname: 'beta', status: 'stopped' });
    expect(byVmid.get(701)?.diskBytes).toBeGreaterThan(0);
  });

  it('answers an unreachable cluster with our wording', async () => {
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ path: '/cluster/resources', status: 596 }],
    });
    const error = await gateway.listClusterContainers(connection()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxmoxError);
    expect((error as ProxmoxError).kind).toBe(ProxmoxErrorKind.Unreachable);
  });
});
