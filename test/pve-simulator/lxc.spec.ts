import { generateEd25519KeyPair } from './identity/ssh-key-pair';
import { apiError, SimulatorFixture, TEMPLATE, UPID_PATTERN } from './testing/simulator-fixture';

/**
 * Long enough that the next requests reach the simulator while the task still
 * runs, even on a loaded CI machine (a few hundred ms was not).
 */
const HOLD_TASK_MS = 2000;

describe('LXC containers', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  it('creates a container as a task with a Proxmox UPID and Proxmox defaults', async () => {
    const upid = await fx.token.nodes.$('pve1').lxc.$post({
      vmid: 101,
      ostemplate: TEMPLATE,
      rootfs: 'local-lvm:8',
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      tags: 'Web;app,web',
    });
    expect(upid).toMatch(UPID_PATTERN);
    const [, node, , , , type, id, user] = upid.split(':');
    expect([node, type, id, user]).toEqual(['pve1', 'vzcreate', '101', 'root@pam!proximity']);
    expect(await fx.waitTask(upid)).toMatchObject({
      status: 'stopped',
      exitstatus: 'OK',
      type: 'vzcreate',
      id: '101',
      user: 'root@pam',
      tokenid: 'proximity',
    });
    const config = await fx.token.nodes.$('pve1').lxc.$(101).config.$get();
    expect(config).toMatchObject({
      hostname: 'CT101',
      memory: 512,
      swap: 512,
      unprivileged: 1,
      ostype: 'debian',
      arch: 'amd64',
      rootfs: 'local-lvm:vm-101-disk-0,size=8G',
      tags: 'app;web',
    });
    expect(config.net0).toMatch(
      /^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$/,
    );
    expect(config.digest).toMatch(/^[0-9a-f]{40}$/);
    expect((await fx.taskLog(upid)).pop()).toBe('TASK OK');
    const list = await fx.token.nodes.$('pve1').lxc.$get();
    expect(list).toEqual([
      expect.objectContaining({
        vmid: 101,
        name: 'CT101',
        status: 'stopped',
        type: 'lxc',
        maxmem: 512 * 1024 ** 2,
        maxdisk: 8 * 1024 ** 3,
      }),
    ]);
  });

  it('works the same with ticket auth (cookie and CSRF header)', async () => {
    const upid = await fx.ticket.nodes.$('pve2').lxc.$post({
      vmid: 201,
      ostemplate: TEMPLATE,
      rootfs: 'local-lvm:4',
      hostname: 'viaticket',
      start: true,
    });
    expect(upid.split(':')[7]).toBe('root@pam');
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect((await fx.waitTask(await fx.latestTask('pve2', 201, 'vzstart'))).exitstatus).toBe('OK');
    expect(await fx.ticket.nodes.$('pve2').lxc.$(201).status.current.$get()).toMatchObject({
      status: 'running',
      name: 'viaticket',
      ha: { managed: 0 },
    });
  });

  it('holds the create lock while the task runs', async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const upid = await fx.token.nodes
      .$('pve1')
      .lxc.$post({ vmid: 102, ostemplate: TEMPLATE, rootfs: 'local-lvm:8' });
    expect(await fx.token.nodes.$('pve1').lxc.$(102).config.$get()).toMatchObject({
      lock: 'create',
    });
    expect(await apiError(fx.token.nodes.$('pve1').lxc.$(102).$delete())).toContain(
      'return Error 500 CT is locked (create)',
    );
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect((await fx.state()).containers[0].locked).toBeNull();
  });

  it('refuses a duplicate VMID synchronously', async () => {
    await fx.createContainer(103);
    expect(
      await apiError(
        fx.token.nodes
          .$('pve2')
          .lxc.$post({ vmid: 103, ostemplate: TEMPLATE, rootfs: 'local-lvm:8' }),
      ),
    ).toContain("return Error 500 CT 103 already exists on node 'pve1'");
  });

  it('fails the task for a template that does not exist and leaves no container behind', async () => {
    const status = await fx.createContainer(104, { ostemplate: 'local:vztmpl/nope.tar.zst' });
    expect(status.exitstatus).toBe(
      "unable to create CT 104 - can't find file 'local:vztmpl/nope.tar.zst'",
    );
    expect((await fx.state()).containers).toEqual([]);
    expect((await fx.state()).tasks.failed).toBe(1);
  });

  it('refuses unknown storages and storages without container directories', async () => {
    expect(
      await apiError(fx.createContainer(105, { ostemplate: 'nope:vztmpl/x.tar.zst' })),
    ).toContain("return Error 500 storage 'nope' does not exist");
    expect(await apiError(fx.createContainer(105, { rootfs: 'fast:8' }))).toContain(
      "return Error 500 storage 'fast' does not exist",
    );
    const message = await apiError(
      fx.token.nodes.$('pve1').lxc.$post({ vmid: 105, ostemplate: TEMPLATE }),
    );
    expect(message).toContain('return Error 400 Parameter verification failed.');
    expect(message).toContain(
      `"errors":{"storage":"storage 'local' does not support container directories"}`,
    );
    expect(
      await apiError(
        fx.createContainer(105, {
          ostemplate: 'local:backup/vzdump-lxc-1-2024_01_01-00_00_00.tar.zst',
        }),
      ),
    ).toContain(
      "unable to use volume local:backup/vzdump-lxc-1-2024_01_01-00_00_00.tar.zst - content type needs to be 'vztmpl'",
    );
  });

  it('starts, stops, shuts down and reboots, refusing the wrong state with Proxmox texts', async () => {
    await fx.createContainer(106);
    const api = fx.token.nodes.$('pve1').lxc.$(106);
    expect(await apiError(api.status.stop.$post())).toContain(
      'return Error 500 CT 106 not running',
    );
    expect(await apiError(api.status.shutdown.$post())).toContain(
      'return Error 500 CT 106 not running',
    );
    expect(await apiError(api.status.reboot.$post())).toContain(
      'return Error 500 VM 106 not running',
    );
    const start = await api.status.start.$post();
    expect(start.split(':')[5]).toBe('vzstart');
    expect((await fx.waitTask(start)).exitstatus).toBe('OK');
    expect(await apiError(api.status.start.$post())).toContain(
      'return Error 500 CT 106 already running',
    );
    expect((await fx.waitTask(await api.status.reboot.$post())).exitstatus).toBe('OK');
    expect((await api.status.current.$get()).status).toBe('running');
    expect((await fx.waitTask(await api.status.shutdown.$post({ timeout: 10 }))).exitstatus).toBe(
      'OK',
    );
    expect((await api.status.current.$get()).status).toBe('stopped');
  });

  it('reports pressure stall figures as numbers on a running container only', async () => {
    const pressureKeys = [
      'pressurecpusome',
      'pressurecpufull',
      'pressureiosome',
      'pressureiofull',
      'pressurememorysome',
      'pressurememoryfull',
    ];
    await fx.createContainer(108);
    const api = fx.token.nodes.$('pve1').lxc.$(108);
    const stopped = (await api.status.current.$get()) as Record<string, unknown>;
    expect(pressureKeys.filter((key) => key in stopped)).toEqual([]);
    await fx.waitTask(await api.status.start.$post());
    const running = (await api.status.current.$get()) as Record<string, unknown>;
    for (const key of pressureKeys) expect(typeof running[key]).toBe('number');
  });

  it('fails a start for a container that does not exist inside the task, as pve-container does', async () => {
    const upid = await fx.token.nodes.$('pve1').lxc.$(999).status.start.$post();
    expect((await fx.waitTask(upid)).exitstatus).toBe(
      "Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
    );
    expect(await apiError(fx.token.nodes.$('pve1').lxc.$(999).status.current.$get())).toContain(
      "return Error 500 Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
    );
  });

  it('reports interfaces only while the container runs', async () => {
    await fx.createContainer(107, { net0: 'name=eth0,bridge=vmbr0,ip=10.0.0.7/24,gw=10.0.0.1' });
    const api = fx.token.nodes.$('pve1').lxc.$(107);
    expect(await api.interfaces.$get()).toBeNull();
    await fx.waitTask(await api.status.start.$post());
    const interfaces = await api.interfaces.$get();
    const ip = (await fx.state()).containers[0].ip;
    expect(ip).toMatch(/^127\.77\.\d+\.\d+$/);
    expect(interfaces.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(interfaces.find((i) => i.name === 'eth0')).toMatchObject({
      inet: `${ip}/16`,
      'ip-addresses': expect.arrayContaining([
        { 'ip-address': ip, 'ip-address-type': 'inet', prefix: 16 },
      ]),
    });
  });

  it('destroys a stopped container, and a running one only with force', async () => {
    await fx.createContainer(108, { start: true });
    const api = fx.token.nodes.$('pve1').lxc.$(108);
    expect(await apiError(api.$delete())).toContain(
      'return Error 500 unable to destroy CT 108 - container is running',
    );
    const forced = await api.$delete({ force: true, purge: true });
    expect(forced.split(':')[5]).toBe('vzdestroy');
    expect((await fx.waitTask(forced)).exitstatus).toBe('WARNINGS: 1');
    expect(await fx.taskLog(forced)).toEqual(
      expect.arrayContaining([
        'WARN: forced to stop CT 108 before destroying!',
        'TASK WARNINGS: 1',
      ]),
    );
    expect((await fx.state()).containers).toEqual([]);
    const volumes = await fx.token.nodes.$('pve1').storage.$('local-lvm').content.$get();
    expect(volumes).toEqual([]);
    await fx.createContainer(109);
    expect(
      (await fx.waitTask(await fx.token.nodes.$('pve1').lxc.$(109).$delete())).exitstatus,
    ).toBe('OK');
  });

  it('updates the config synchronously, normalising tags and honouring digest and delete', async () => {
    await fx.createContainer(110, { description: 'first' });
    const api = fx.token.nodes.$('pve1').lxc.$(110);
    const before = await api.config.$get();
    expect(
      await api.config.$put({
        memory: 1024,
        cores: 2,
        tags: 'Zeta b',
        delete: 'description',
        digest: before.digest,
      }),
    ).toBeNull();
    const after = await api.config.$get();
    expect(after).toMatchObject({ memory: 1024, cores: 2, tags: 'b;zeta' });
    expect(after.description).toBeUndefined();
    expect(await apiError(api.config.$put({ memory: 2048, digest: before.digest }))).toContain(
      'return Error 500 detected modified configuration - file changed by other user? Try again.',
    );
    expect(await apiError(api.config.$put({ delete: 'memory' }))).toContain(
      "unable to delete required option 'memory'",
    );
    expect(await apiError(api.config.$put({ delete: 'nonsense' }))).toContain(
      `"errors":{"delete":"unknown option 'nonsense'"}`,
    );
    expect(await apiError(api.config.$put({}))).toContain('return Error 500 no options specified');
  });

  it('enforces root-only options for API tokens and not for root@pam tickets', async () => {
    const message = await apiError(fx.createContainer(111, { features: 'nesting=1,keyctl=1' }));
    expect(message).toContain(
      'connection failed with 403 Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)',
    );
    const upid = await fx.ticket.nodes.$('pve1').lxc.$post({
      vmid: 111,
      ostemplate: TEMPLATE,
      rootfs: 'local-lvm:8',
      features: 'nesting=1,keyctl=1',
    });
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect(
      await apiError(fx.token.nodes.$('pve1').lxc.$(111).status.start.$post({ skiplock: true })),
    ).toContain(`"errors":{"skiplock":"Only root may use this option."}`);
  });

  it('answers the directory index, rrddata, a snapshot config, and keeps protected guests', async () => {
    await fx.createContainer(113, { start: true, protection: 1 });
    const api = fx.token.nodes.$('pve1').lxc.$(113);
    const index = (await api.$get()).map((entry) => entry.subdir);
    expect(index).toEqual(expect.arrayContaining(['config', 'status', 'snapshot', 'interfaces']));
    expect(index).toHaveLength(18);
    const points = await api.rrddata.$get({ timeframe: 'hour' });
    expect(points).toHaveLength(70);
    expect(points[69].time - points[68].time).toBe(60);
    expect(points[69]).toMatchObject({ maxmem: 512 * 1024 * 1024, maxcpu: 8 });
    await fx.waitTask(await api.snapshot.$post({ snapname: 'before', description: 'kept' }));
    await api.config.$put({ memory: 1024 });
    expect(await api.config.$get({ snapshot: 'before' })).toMatchObject({
      memory: 512,
      description: 'kept',
    });
    expect(await apiError(api.config.$get({ snapshot: 'nope' }))).toContain(
      "snapshot 'nope' does not exist",
    );
    expect(await apiError(api.$delete({ force: true }))).toContain(
      "return Error 500 can't remove CT 113 - protection mode enabled",
    );
  });

  it("checks create-only parameters and installs root's SSH keys", async () => {
    const create = (params: Record<string, string | number>): Promise<string> =>
      fx.ticket.nodes.$('pve1').lxc.$post({ vmid: 114, ostemplate: TEMPLATE, ...params });
    expect(await apiError(create({ mp0: 'local-lvm:4,mp=/data' }))).toContain(
      "mount points configured, but 'rootfs' not set - aborting",
    );
    expect(await apiError(create({ rootfs: '/srv/ct114' }))).toContain(
      'bind mounts as rootfs are not supported by the Proxmox VE simulator',
    );
    expect(await apiError(create({ rootfs: 'local-lvm:vm-114-disk-0' }))).toContain(
      'using an existing volume as rootfs is not supported by the Proxmox VE simulator',
    );
    expect(await apiError(create({ rootfs: 'local-lvm:8', pool: 'apps' }))).toContain(
      "pool 'apps' does not exist",
    );
    expect(
      await apiError(create({ rootfs: 'local-lvm:8', 'ssh-public-keys': 'not a key' })),
    ).toContain('SSH public key validation error');
    const key = generateEd25519KeyPair().public;
    const upid = await create({ rootfs: 'local-lvm:8', 'ssh-public-keys': key, start: 1 });
    expect((await fx.waitTask(upid)).exitstatus).toBe('OK');
    expect((await fx.waitTask(await fx.latestTask('pve1', 114, 'vzstart'))).exitstatus).toBe('OK');
    expect((await fx.exec('pct exec 114 -- cat /root/.ssh/authorized_keys')).stdout).toBe(
      `${key}\n`,
    );
  });

  it('lists the guest everywhere a client looks for it', async () => {
    await fx.createContainer(112, { start: true, tags: 'proximity' }, 'pve2');
    // Status and name come with pvestatd's next tick: a short interval brings it soon.
    await fx.control('POST', '/_sim/latency', { statsIntervalMs: 20 });
    const resources = await fx.until(
      () => fx.token.cluster.resources.$get({ type: 'vm' }),
      (rows) => rows.some((row) => row.status === 'running'),
    );
    expect(resources).toEqual([
      expect.objectContaining({
        id: 'lxc/112',
        vmid: 112,
        node: 'pve2',
        status: 'running',
        name: 'ct112',
        tags: 'proximity',
      }),
    ]);
    expect(await fx.token.nodes.$('pve1').lxc.$get()).toEqual([]);
    expect(await apiError(fx.token.nodes.$('pve1').lxc.$(112).config.$get())).toContain(
      "Configuration file 'nodes/pve1/lxc/112.conf' does not exist",
    );
    expect(await fx.token.cluster.nextid.$get()).toBe('100');
  });
});
