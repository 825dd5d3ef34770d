import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ProxmoxApiGateway } from './proxmox-api.gateway';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';

describe('ProxmoxApiGateway backups against the simulator', () => {
  let fixture: SimulatorFixture;
  const gateway = new ProxmoxApiGateway();
  const wait = { deadlineMs: 10_000, pollMs: 10 };

  const connection = (): ProxmoxConnection => ({
    host: '127.0.0.1',
    port: fixture.sim.port,
    auth: { tokenId: fixture.sim.tokenId, tokenSecret: fixture.sim.tokenSecret },
    tls: { fingerprint: fixture.sim.tlsFingerprint },
    timeoutMs: 2000,
  });

  const caught = async (work: Promise<unknown>): Promise<ProxmoxError> => {
    try {
      await work;
    } catch (err) {
      if (err instanceof ProxmoxError) return err;
      throw err;
    }
    throw new Error('expected a ProxmoxError');
  };

  let vmid = 700;
  const guest = async () => {
    vmid += 1;
    expect((await fixture.createContainer(vmid, { start: true })).exitstatus).toBe('OK');
    return vmid;
  };

  const backup = async (id: number) => {
    const upid = await gateway.vzdump(connection(), {
      node: 'pve1',
      vmid: id,
      storage: 'local',
      mode: 'snapshot',
      compress: 'zstd',
    });
    await gateway.waitForTask(connection(), upid, wait);
    return upid;
  };

  beforeAll(async () => {
    fixture = await SimulatorFixture.start();
    await fixture.control('POST', '/_sim/latency', { taskMs: 10 });
  });
  afterAll(async () => {
    await fixture?.close();
  });
  afterEach(async () => {
    await fixture.control('DELETE', '/_sim/faults');
  });

  it('backs a guest up, names the archive in the task log and lists it by vmid', async () => {
    const id = await guest();
    const upid = await backup(id);
    const log = await gateway.taskLog(connection(), upid);
    const archive = log.find((line) => line.includes('creating vzdump archive'));
    expect(archive).toMatch(new RegExp(`vzdump-lxc-${id}-.*\\.tar\\.zst'$`));
    const listed = await gateway.listBackups(connection(), { node: 'pve1', vmid: id }, 'local');
    expect(listed).toHaveLength(1);
    expect(listed[0].volid).toMatch(new RegExp(`^local:backup/vzdump-lxc-${id}-.*\\.tar\\.zst$`));
    expect(listed[0].size).toBeGreaterThan(0);
    expect(listed[0].ctime).toBeGreaterThan(0);
    expect(await gateway.taskLog(connection(), upid, log.length - 1)).toEqual([log.at(-1)]);
  });

  it("passes the lock wait: with 0 a vzdump gives up at once while another holds the node's lock", async () => {
    const first = await guest();
    const second = await guest();
    await fixture.control('POST', '/_sim/latency', { taskMs: 1000 });
    try {
      const spec = { node: 'pve1', storage: 'local', mode: 'snapshot', compress: 'zstd' } as const;
      const holding = await gateway.vzdump(connection(), { ...spec, vmid: first });
      const refused = await gateway.vzdump(connection(), {
        ...spec,
        vmid: second,
        lockWaitMinutes: 0,
      });
      const error = await caught(gateway.waitForTask(connection(), refused, wait));
      expect(error.kind).toBe(ProxmoxErrorKind.TaskFailed);
      expect((await gateway.taskLog(connection(), refused)).join('\n')).toContain('(wait = 0)');
      await gateway.waitForTask(connection(), holding, wait);
    } finally {
      await fixture.control('POST', '/_sim/latency', { taskMs: 10 });
    }
  });

  it('refuses a vzdump of a guest that is not on the node (Proxmox answers OK, no task)', async () => {
    const id = await guest();
    const error = await caught(
      gateway.vzdump(connection(), {
        node: 'pve2',
        vmid: id,
        storage: 'local',
        mode: 'snapshot',
        compress: 'zstd',
      }),
    );
    expect(error.kind).toBe(ProxmoxErrorKind.NotFound);
  });

  it('restores an archive over the stopped guest and deletes the archive', async () => {
    const id = await guest();
    await backup(id);
    const [volume] = await gateway.listBackups(connection(), { node: 'pve1', vmid: id }, 'local');
    const ref = { node: 'pve1', vmid: id };
    const busy = await caught(
      gateway.restoreContainer(connection(), {
        ...ref,
        archive: volume.volid,
        storage: 'local-lvm',
      }),
    );
    // Proxmox refuses to overwrite a running container: stop it first.
    expect(busy.upstream).toContain("can't overwrite running container");
    await gateway.waitForTask(connection(), await gateway.stopContainer(connection(), ref), wait);
    await gateway.waitForTask(
      connection(),
      await gateway.restoreContainer(connection(), {
        ...ref,
        archive: volume.volid,
        storage: 'local-lvm',
      }),
      wait,
    );
    expect((await gateway.containerStatus(connection(), ref)).status).toBe('stopped');
    await gateway.waitForTask(
      connection(),
      await gateway.deleteVolume(connection(), 'pve1', volume.volid),
      wait,
    );
    expect(await gateway.listBackups(connection(), ref, 'local')).toEqual([]);
    expect((await fixture.state()).backups).not.toContain(volume.volid);
  });

  it('refuses a volume whose storage is not a storage id before sending', async () => {
    const error = await caught(gateway.deleteVolume(connection(), 'pve1', '../x:backup/y'));
    expect(error.kind).toBe(ProxmoxErrorKind.InvalidRequest);
  });
});
