import { apiError, SimulatorFixture } from './testing/simulator-fixture';

/**
 * Long enough that the next requests reach the simulator while the task still
 * runs, even on a loaded CI machine (a few hundred ms was not).
 */
const HOLD_TASK_MS = 2000;

describe('snapshots and clones', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  const lxc = (vmid: number, node = 'pve1') => fx.token.nodes.$(node).lxc.$(vmid);

  it('takes a snapshot as a vzsnapshot task and lists it with the current state', async () => {
    await fx.createContainer(101);
    const upid = await lxc(101).snapshot.$post({
      snapname: 'before-upgrade',
      description: 'safe point',
    });
    expect(upid.split(':')[5]).toBe('vzsnapshot');
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    const list = await lxc(101).snapshot.$get();
    expect(list).toEqual([
      expect.objectContaining({
        name: 'before-upgrade',
        description: 'safe point',
        snaptime: expect.any(Number),
      }),
      expect.objectContaining({
        name: 'current',
        description: 'You are here!',
        parent: 'before-upgrade',
        running: 0,
      }),
    ]);
    expect(await lxc(101).snapshot.$('before-upgrade').config.$get()).toMatchObject({
      hostname: 'ct101',
      description: 'safe point',
    });
    expect((await fx.state()).containers[0].snapshots).toEqual(['before-upgrade']);
  });

  it('lists snapshots in hash order, not creation order, the same on every call; current last', async () => {
    await fx.createContainer(106);
    const created = ['alpha', 'beta', 'gamma', 'delta'];
    for (const snapname of created) await fx.waitTask(await lxc(106).snapshot.$post({ snapname }));
    const names = (await lxc(106).snapshot.$get()).map((s) => s.name);
    expect(names.at(-1)).toBe('current');
    const snapshots = names.slice(0, -1);
    expect([...snapshots].sort()).toEqual([...created].sort());
    expect(snapshots).not.toEqual(created);
    expect((await lxc(106).snapshot.$get()).map((s) => s.name)).toEqual(names);
    expect((await fx.state()).containers[0].snapshots).toEqual(created);
  });

  it('refuses a taken, reserved or malformed snapshot name with Proxmox wording', async () => {
    await fx.createContainer(102);
    await fx.waitTask(await lxc(102).snapshot.$post({ snapname: 'one' }));
    expect((await fx.waitTask(await lxc(102).snapshot.$post({ snapname: 'one' }))).exitstatus).toBe(
      "snapshot name 'one' already used",
    );
    expect(await apiError(lxc(102).snapshot.$post({ snapname: 'current' }))).toContain(
      "return Error 500 unable to use snapshot name 'current' (reserved name)",
    );
    const malformed = await apiError(lxc(102).snapshot.$post({ snapname: '1st' }));
    expect(malformed).toContain('return Error 400 Parameter verification failed.');
    expect(malformed).toContain(`"snapname":"invalid format - invalid configuration ID '1st'\\n"`);
    expect(await apiError(lxc(102).snapshot.$post({ snapname: 'x'.repeat(41) }))).toContain(
      'value may only be 40 characters long',
    );
    expect(
      await apiError(lxc(102).snapshot.$post({ snapname: 'ok', vmstate: 1 } as never)),
    ).toContain(
      '"vmstate":"property is not defined in schema and the schema does not allow additional properties"',
    );
  });

  it('holds the snapshot lock while the task runs; a second task on the container fails', async () => {
    await fx.createContainer(103);
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const first = await lxc(103).snapshot.$post({ snapname: 'first' });
    expect((await fx.state()).containers[0].locked).toBe('snapshot');
    const second = await lxc(103).snapshot.$post({ snapname: 'second' });
    expect(await apiError(lxc(103).config.$put({ memory: 1024 }))).toContain(
      'return Error 500 CT is locked (snapshot)',
    );
    expect((await fx.waitTask(second)).exitstatus).toBe('CT is locked (snapshot)');
    expect((await fx.waitTask(first)).exitstatus).toBe('OK');
    expect((await fx.state()).containers[0]).toMatchObject({ locked: null, snapshots: ['first'] });
  });

  it('refuses a forced snapshot delete on a container a backup holds, keeping the backup lock', async () => {
    await fx.createContainer(105);
    await fx.waitTask(await lxc(105).snapshot.$post({ snapname: 'keep' }));
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const backup = await fx.token.nodes
      .$('pve1')
      .vzdump.$post({ vmid: '105', storage: 'local', mode: 'snapshot' });
    const forced = await lxc(105).snapshot.$('keep').$delete({ force: true });
    expect((await fx.state()).containers[0].locked).toBe('backup');
    expect((await fx.waitTask(forced)).exitstatus).toBe('CT is locked (backup)');
    expect((await fx.waitTask(backup)).exitstatus).toBe('OK');
    expect((await fx.state()).containers[0]).toMatchObject({ locked: null, snapshots: ['keep'] });
  });

  it('rolls back files and config, and deletes snapshots', async () => {
    await fx.createContainer(104, { start: true });
    expect((await fx.exec("pct exec 104 -- sh -c 'echo v1 > /root/data'")).code).toBe(0);
    await fx.waitTask(await lxc(104).snapshot.$post({ snapname: 'v1' }));
    await fx.exec("pct exec 104 -- sh -c 'echo v2 > /root/data'");
    await lxc(104).config.$put({ memory: 2048 });
    const rollback = await lxc(104).snapshot.$('v1').rollback.$post({ start: true });
    expect(rollback.split(':')[5]).toBe('vzrollback');
    expect((await fx.waitTask(rollback)).exitstatus).toBe('OK');
    expect((await fx.waitTask(await fx.latestTask('pve1', 104, 'vzstart'))).exitstatus).toBe('OK');
    expect((await fx.exec('pct exec 104 -- cat /root/data')).stdout).toBe('v1\n');
    expect((await lxc(104).config.$get()).memory).toBe(512);
    expect((await fx.waitTask(await lxc(104).snapshot.$('nope').$delete())).exitstatus).toBe(
      "snapshot 'nope' does not exist",
    );
    const removed = await lxc(104).snapshot.$('v1').$delete();
    expect(removed.split(':')[5]).toBe('vzdelsnapshot');
    expect((await fx.waitTask(removed)).exitstatus).toBe('OK');
    expect((await lxc(104).snapshot.$get()).map((s) => s.name)).toEqual(['current']);
  });

  it('clones a stopped container to a new VMID with a new MAC, keeping the source locked meanwhile', async () => {
    await fx.createContainer(105, { memory: 1024, tags: 'app' });
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const upid = await lxc(105).clone.$post({ newid: 205, hostname: 'copy' });
    const [, node, , , , type, id] = upid.split(':');
    expect([node, type, id]).toEqual(['pve1', 'vzclone', '105']);
    const during = (await fx.state()).containers;
    expect(during.map((c) => [c.vmid, c.locked])).toEqual([
      [105, 'disk'],
      [205, 'create'],
    ]);
    expect(
      await apiError(
        lxc(105)
          .status.start.$post()
          .then((u) => fx.waitTask(u))
          .then((s) => Promise.reject(new Error(s.exitstatus))),
      ),
    ).toBe('CT is locked (disk)');
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    const source = await lxc(105).config.$get();
    const copy = await lxc(205).config.$get();
    expect(copy).toMatchObject({
      hostname: 'copy',
      memory: 1024,
      tags: 'app',
      rootfs: 'local-lvm:vm-205-disk-0,size=8G',
    });
    expect(copy.net0).not.toBe(source.net0);
    expect((await fx.state()).containers.map((c) => [c.vmid, c.status, c.locked])).toEqual([
      [105, 'stopped', null],
      [205, 'stopped', null],
    ]);
  });

  it('refuses the clones Proxmox refuses', async () => {
    await fx.createContainer(106, { start: true });
    await fx.createContainer(107);
    expect(await apiError(lxc(106).clone.$post({ newid: 300 }))).toContain(
      'return Error 500 Full clone of a running container is only possible from a snapshot',
    );
    expect(await apiError(lxc(106).clone.$post({ newid: 300, snapname: 'nope' }))).toContain(
      "return Error 500 snapshot 'nope' does not exist",
    );
    expect(await apiError(lxc(106).clone.$post({ newid: 107 }))).toContain(
      "return Error 500 CT 107 already exists on node 'pve1'",
    );
    expect(await apiError(lxc(107).clone.$post({ newid: 300, full: false }))).toContain(
      "Linked clone feature for 'local-lvm:vm-107-disk-0' is not available",
    );
    expect(
      await apiError(lxc(107).clone.$post({ newid: 300, full: false, storage: 'local-lvm' })),
    ).toContain("parameter 'storage' not allowed for linked clones");
    expect(await apiError(lxc(999).clone.$post({ newid: 300 }))).toContain(
      "Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
    );
    // Refused after both locks were taken: the source is unlocked, no target is left.
    expect((await fx.state()).containers.map((ct) => [ct.vmid, ct.locked])).toEqual([
      [106, null],
      [107, null],
    ]);
  });

  it('clones a running container from a snapshot, with the files of that snapshot', async () => {
    await fx.createContainer(108, { start: true });
    await fx.exec("pct exec 108 -- sh -c 'echo snap > /root/marker'");
    await fx.waitTask(await lxc(108).snapshot.$post({ snapname: 'base' }));
    await fx.exec('pct exec 108 -- rm /root/marker');
    expect(
      (
        await fx.waitTask(
          await lxc(108).clone.$post({ newid: 208, snapname: 'base', hostname: 'fromsnap' }),
        )
      ).exitstatus,
    ).toBe('OK');
    await fx.waitTask(await lxc(208).status.start.$post());
    expect((await fx.exec('pct exec 208 -- cat /root/marker')).stdout).toBe('snap\n');
    expect((await lxc(208).snapshot.$get()).map((s) => s.name)).toEqual(['current']);
  });
});
