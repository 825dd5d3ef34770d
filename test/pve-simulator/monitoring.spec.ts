import { apiError, SimulatorFixture } from './testing/simulator-fixture';

/** Long enough that no tick comes while a test looks; short enough to wait for. */
const NO_TICK_MS = 3_600_000;
const FAST_TICK_MS = 20;

describe('cluster resources as pvestatd monitoring data', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  const holdTicks = (): Promise<unknown> =>
    fx.control('POST', '/_sim/latency', { statsIntervalMs: NO_TICK_MS });
  const resumeTicks = (): Promise<unknown> =>
    fx.control('POST', '/_sim/latency', { statsIntervalMs: FAST_TICK_MS });

  async function guestRow(vmid: number): Promise<Record<string, unknown> | undefined> {
    const rows = await fx.token.cluster.resources.$get({ type: 'vm' });
    return rows.find((row) => row.vmid === vmid);
  }

  const untilRow = (
    vmid: number,
    done: (row: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown> | undefined> =>
    fx.until(
      () => guestRow(vmid),
      (row) => row !== undefined && done(row),
    );

  it('lists a new guest by id, node and type only, until the next tick brings its figures', async () => {
    await holdTicks();
    await fx.createContainer(201, { tags: 'web' });
    expect(await guestRow(201)).toEqual({
      id: 'lxc/201',
      vmid: 201,
      node: 'pve1',
      type: 'lxc',
      status: 'unknown',
      tags: 'web',
    });
    expect(await fx.token.nodes.$('pve1').lxc.$(201).status.current.$get()).toMatchObject({
      status: 'stopped',
      name: 'ct201',
    });
    await resumeTicks();
    expect(await untilRow(201, (row) => row.status !== 'unknown')).toEqual({
      id: 'lxc/201',
      vmid: 201,
      node: 'pve1',
      type: 'lxc',
      status: 'stopped',
      name: 'ct201',
      template: 0,
      uptime: 0,
      maxcpu: 8,
      cpu: 0,
      maxmem: 512 * 1024 ** 2,
      mem: 0,
      memhost: 0,
      maxdisk: 8 * 1024 ** 3,
      disk: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      tags: 'web',
    });
  });

  it('shows a start or a stop at the next tick, while status/current has it at once', async () => {
    await resumeTicks();
    await fx.createContainer(202);
    await untilRow(202, (row) => row.status === 'stopped');
    await holdTicks();
    const api = fx.token.nodes.$('pve1').lxc.$(202);
    await fx.waitTask(await api.status.start.$post());
    expect((await api.status.current.$get()).status).toBe('running');
    expect(await guestRow(202)).toMatchObject({ status: 'stopped', mem: 0 });
    await resumeTicks();
    const running = await untilRow(202, (row) => row.status === 'running');
    expect(running).toMatchObject({ mem: 64 * 1024 ** 2, memhost: 0 });
    expect(typeof running?.uptime).toBe('number');
    await holdTicks();
    await fx.waitTask(await api.status.stop.$post());
    expect((await api.status.current.$get()).status).toBe('stopped');
    expect((await guestRow(202))?.status).toBe('running');
    await resumeTicks();
    expect(await untilRow(202, (row) => row.status === 'stopped')).toMatchObject({ uptime: 0 });
  });

  it('drops a destroyed guest at once; its VMID created again within 5 minutes shows the old row', async () => {
    await resumeTicks();
    await fx.createContainer(203, { hostname: 'first' });
    await untilRow(203, (row) => row.name === 'first');
    await holdTicks();
    await fx.waitTask(await fx.token.nodes.$('pve1').lxc.$(203).$delete());
    expect(await guestRow(203)).toBeUndefined();
    // A tick without the guest: its RRD row stays (pmxcfs expires rows after 5 minutes).
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: 209, hostname: 'witness' });
    await resumeTicks();
    await untilRow(209, (row) => row.status !== 'unknown');
    await holdTicks();
    await fx.createContainer(203, { hostname: 'second' }, 'pve2');
    expect(await guestRow(203)).toMatchObject({ node: 'pve2', name: 'first', status: 'stopped' });
    await resumeTicks();
    expect(await untilRow(203, (row) => row.name === 'second')).toMatchObject({ node: 'pve2' });
  });

  it('shows a lock at once, since it comes from the config file', async () => {
    await holdTicks();
    await fx.createContainer(204);
    await fx.control('POST', '/_sim/latency', { taskMs: 2_000 });
    const upid = await fx.token.nodes.$('pve1').vzdump.$post({ vmid: '204', storage: 'local' });
    expect(await guestRow(204)).toMatchObject({ status: 'unknown', lock: 'backup' });
    await fx.waitTask(upid);
  });

  it('reports node figures from the last tick in /nodes and /cluster/resources, /nodes/{node}/status at once', async () => {
    await holdTicks();
    const before = await fx.token.nodes.$get();
    const usedBefore = (await fx.token.nodes.$('pve1').status.$get()).memory.used;
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: 205, hostname: 'busy' });
    expect((await fx.token.nodes.$('pve1').status.$get()).memory.used).toBeGreaterThan(usedBefore);
    expect(await fx.token.nodes.$get()).toEqual(before);
    expect(before.find((node) => node.node === 'pve1')).toMatchObject({
      id: 'node/pve1',
      type: 'node',
      status: 'online',
      level: '',
      maxcpu: 8,
      ssl_fingerprint: fx.sim.tlsFingerprint,
    });
    await resumeTicks();
    const pve1Mem = async (): Promise<unknown> =>
      (await fx.token.nodes.$get()).find((node) => node.node === 'pve1')?.mem;
    const memBefore = before.find((node) => node.node === 'pve1')?.mem;
    await fx.until(pve1Mem, (mem) => mem !== memBefore);
    expect(await fx.token.cluster.resources.$get({ type: 'node' })).toEqual(
      (await fx.token.nodes.$get()).map(({ ssl_fingerprint: _fingerprint, ...node }) => ({
        ...node,
        'cgroup-mode': 2,
      })),
    );
  });

  it('answers in the 9.2 shape: guests in string order, then nodes, storages and network rows', async () => {
    await holdTicks();
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: 999, hostname: 'a' });
    await fx.control('POST', '/_sim/guests', { node: 'pve2', vmid: 1000, hostname: 'b' });
    const all = await fx.token.cluster.resources.$get();
    expect(all.map((row) => row.id)).toEqual([
      'lxc/1000',
      'lxc/999',
      'node/pve1',
      'node/pve2',
      'storage/pve1/local',
      'storage/pve2/local',
      'storage/pve1/local-lvm',
      'storage/pve2/local-lvm',
      'network/pve1/zone/localnetwork',
      'network/pve2/zone/localnetwork',
    ]);
    expect(all.find((row) => row.type === 'network')).toEqual({
      id: 'network/pve1/zone/localnetwork',
      type: 'network',
      'network-type': 'zone',
      network: 'localnetwork',
      node: 'pve1',
      status: 'ok',
    });
    expect(await fx.token.cluster.resources.$get({ type: 'sdn' })).toEqual([]);
    expect(await apiError(fx.token.cluster.resources.$get({ type: 'network' as 'sdn' }))).toContain(
      "value 'network' does not have a value in the enumeration",
    );
  });

  it('takes statsIntervalMs from /_sim/latency, at least 10 ms, back to its start value on reset', async () => {
    expect(await fx.control('POST', '/_sim/latency', { statsIntervalMs: 5 })).toEqual({
      status: 400,
      body: { error: 'statsIntervalMs must be an integer between 10 and 3600000' },
    });
    await resumeTicks();
    await fx.control('POST', '/_sim/reset');
    expect(await fx.control('GET', '/_sim/latency')).toMatchObject({
      status: 200,
      body: { statsIntervalMs: 10_000 },
    });
  });
});
