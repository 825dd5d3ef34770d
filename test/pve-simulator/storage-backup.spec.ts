import { apiError, SimulatorFixture, TEMPLATE } from './testing/simulator-fixture';

const BACKUP_VOLID =
  /^local:backup\/vzdump-lxc-(\d+)-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.tar\.zst$/;

/**
 * Long enough that the next requests reach the simulator while the task still
 * runs, even on a loaded CI machine (a few hundred ms was not).
 */
const HOLD_TASK_MS = 2000;

describe('storage, backups and restores', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  const node = (name = 'pve1') => fx.token.nodes.$(name);

  async function backup(vmid: number, extra: Record<string, unknown> = {}): Promise<string> {
    const upid = await node().vzdump.$post({
      vmid: String(vmid),
      storage: 'local',
      mode: 'snapshot',
      compress: 'zstd',
      ...extra,
    });
    const status = await fx.waitTask(upid);
    if (status.exitstatus !== 'OK') throw new Error(`backup failed: ${status.exitstatus}`);
    const volumes = await node().storage.$('local').content.$get({ content: 'backup', vmid });
    return volumes.sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0))[0].volid;
  }

  it('lists the default storages and the Debian template', async () => {
    const storages = await node().storage.$get();
    expect(storages.map((s) => [s.storage, s.type, s.content, s.shared])).toEqual([
      ['local', 'dir', 'backup,iso,vztmpl', 0],
      ['local-lvm', 'lvmthin', 'images,rootdir', 0],
    ]);
    expect((await node().storage.$get({ content: 'rootdir' })).map((s) => s.storage)).toEqual([
      'local-lvm',
    ]);
    const templates = await node('pve2').storage.$('local').content.$get({ content: 'vztmpl' });
    expect(templates).toEqual([
      expect.objectContaining({ volid: TEMPLATE, content: 'vztmpl', format: 'tzst' }),
    ]);
    expect(await apiError(node().storage.$('nope').content.$get())).toContain(
      "return Error 500 storage 'nope' does not exist",
    );
    expect(await apiError(node().storage.$('local').content.$get({ content: 'bogus' }))).toContain(
      `"content":"invalid format - invalid content type 'bogus'\\n"`,
    );
  });

  it('backs up a container with vzdump and lists the archive Proxmox-style', async () => {
    await fx.createContainer(101, { start: true });
    const upid = await node().vzdump.$post({
      vmid: '101',
      storage: 'local',
      mode: 'snapshot',
      compress: 'zstd',
      'notes-template': '{{guestname}} on {{node}}',
      protected: true,
    });
    const [, , , , , type, id] = upid.split(':');
    expect([type, id]).toEqual(['vzdump', '101']);
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    const log = await fx.taskLog(upid);
    expect(log[0]).toMatch(/^INFO: starting new backup job: vzdump 101 /);
    expect(
      log.some((line) =>
        /^INFO: creating vzdump archive '\/var\/lib\/vz\/dump\/vzdump-lxc-101-.*\.tar\.zst'$/.test(
          line,
        ),
      ),
    ).toBe(true);
    expect(log.slice(-2)).toEqual(['INFO: Backup job finished successfully', 'TASK OK']);
    const [archive] = await node()
      .storage.$('local')
      .content.$get({ content: 'backup', vmid: 101 });
    expect(archive.volid).toMatch(BACKUP_VOLID);
    expect(archive).toMatchObject({
      content: 'backup',
      format: 'tar.zst',
      subtype: 'lxc',
      vmid: 101,
      notes: 'ct101 on pve1',
      protected: 1,
    });
    expect((await fx.state()).backups).toEqual([archive.volid]);
    expect((await fx.state()).containers[0]).toMatchObject({ status: 'running', locked: null });
  });

  it('answers "OK" without a task when the guest lives on another node', async () => {
    await fx.createContainer(102, {}, 'pve2');
    expect(await node('pve1').vzdump.$post({ vmid: '102', storage: 'local' })).toBe('OK');
    expect(await apiError(node().vzdump.$post({ storage: 'local' }))).toContain(
      `"errors":{"vmid":"property is missing"}`,
    );
  });

  it('holds the backup lock during the job and reports a locked guest as a job error', async () => {
    await fx.createContainer(103);
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const upid = await node().vzdump.$post({ vmid: '103', storage: 'local' });
    expect(await apiError(node().lxc.$(103).config.$put({ memory: 1024 }))).toContain(
      'return Error 500 CT is locked (backup)',
    );
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    const snapshot = await node().lxc.$(103).snapshot.$post({ snapname: 'held' });
    const second = await node().vzdump.$post({ vmid: '103', storage: 'local' });
    expect((await fx.waitTask(second)).exitstatus).toBe('job errors');
    expect(await fx.taskLog(second)).toContain(
      'ERROR: Backup of VM 103 failed - CT is locked (snapshot)',
    );
    expect((await fx.waitTask(snapshot)).exitstatus).toBe('OK');
    expect(
      (await fx.waitTask(await node().vzdump.$post({ vmid: '103', storage: 'nope' }))).exitstatus,
    ).toBe("could not activate storage 'nope': storage 'nope' does not exist");
  });

  it('restores a backup into a new container with its configuration and files', async () => {
    await fx.createContainer(104, { start: true, memory: 768, tags: 'keep' });
    await fx.exec("pct exec 104 -- sh -c 'echo precious > /root/data'");
    const volid = await backup(104);
    const upid = await node().lxc.$post({
      vmid: 204,
      ostemplate: volid,
      restore: true,
      storage: 'local-lvm',
    });
    expect(upid.split(':')[5]).toBe('vzrestore');
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect(await fx.taskLog(upid)).toContain(`recovering backed-up configuration from '${volid}'`);
    expect(await node().lxc.$(204).config.$get()).toMatchObject({
      hostname: 'ct104',
      memory: 768,
      tags: 'keep',
      rootfs: 'local-lvm:vm-204-disk-0,size=8G',
    });
    await fx.waitTask(await node().lxc.$(204).status.start.$post());
    expect((await fx.exec('pct exec 204 -- cat /root/data')).stdout).toBe('precious\n');
  });

  it('refuses restores the way Proxmox does', async () => {
    await fx.createContainer(105, { start: true });
    const volid = await backup(105);
    expect(
      await apiError(
        node().lxc.$post({ vmid: 105, ostemplate: volid, restore: true, storage: 'local-lvm' }),
      ),
    ).toContain("CT 105 already exists on node 'pve1'");
    expect(
      await apiError(
        node().lxc.$post({
          vmid: 105,
          ostemplate: volid,
          restore: true,
          force: true,
          storage: 'local-lvm',
        }),
      ),
    ).toContain("return Error 500 can't overwrite running container");
    expect(
      await apiError(node().lxc.$post({ vmid: 305, ostemplate: volid, restore: true })),
    ).toContain(`"errors":{"storage":"storage 'local' does not support container directories"}`);
    const missing = await node().lxc.$post({
      vmid: 305,
      ostemplate: 'local:backup/vzdump-lxc-105-2020_01_01-00_00_00.tar.zst',
      restore: true,
      storage: 'local-lvm',
    });
    expect((await fx.waitTask(missing)).exitstatus).toBe(
      "unable to restore CT 305 - can't find file 'local:backup/vzdump-lxc-105-2020_01_01-00_00_00.tar.zst'",
    );
  });

  it('overwrites a stopped container when restoring with force', async () => {
    await fx.createContainer(106, { hostname: 'original' });
    const volid = await backup(106);
    await node().lxc.$(106).config.$put({ hostname: 'changed' });
    expect(
      (
        await fx.waitTask(
          await node().lxc.$post({
            vmid: 106,
            ostemplate: volid,
            restore: true,
            force: true,
            storage: 'local-lvm',
          }),
        )
      ).exitstatus,
    ).toBe('OK');
    expect((await node().lxc.$(106).config.$get()).hostname).toBe('original');
  });

  it('deletes backup volumes as imgdel tasks, with Proxmox answers for missing ones', async () => {
    await fx.createContainer(107);
    const volid = await backup(107);
    const upid = await node().storage.$('local').content.$(volid).$delete();
    expect(upid.split(':').slice(5, 7)).toEqual(['imgdel', '107@local']);
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect(await fx.taskLog(upid)).toContain(`Removed volume '${volid}'`);
    expect(await node().storage.$('local').content.$get({ content: 'backup' })).toEqual([]);
    const again = await node().storage.$('local').content.$(volid).$delete();
    expect((await fx.waitTask(again)).exitstatus).toBe('WARNINGS: 1');
    expect(await node().storage.$('local').content.$(volid).$delete({ delay: 5 })).toBeNull();
    expect(await apiError(node().storage.$('local-lvm').content.$(volid).$delete())).toContain(
      'storage ID mismatch (local != local-lvm)',
    );
  });

  it('prunes older backups with keep-last', async () => {
    await fx.createContainer(108);
    for (let i = 0; i < 3; i++) await backup(108);
    const kept = await backup(108, { 'prune-backups': 'keep-last=2' });
    const remaining = await node()
      .storage.$('local')
      .content.$get({ content: 'backup', vmid: 108 });
    expect(remaining).toHaveLength(2);
    expect(remaining.map((v) => v.volid)).toContain(kept);
  });
});
