import { apiError, SimulatorFixture } from './testing/simulator-fixture';

describe('pending configuration of a running container', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  const guest = (vmid: number) => fx.ticket.nodes.$('pve1').lxc.$(vmid);

  const pendingOf = (vmid: number) => guest(vmid).pending.$get();

  async function statePending(vmid: number): Promise<unknown> {
    const state = (await fx.control('GET', '/_sim/state')).body as {
      containers: Array<{ vmid: number; pending: string[] }>;
    };
    return state.containers.find((container) => container.vmid === vmid)?.pending;
  }

  it('hot-plugs what it can at once and keeps features, nameserver and deletes pending until the restart', async () => {
    await fx.createContainer(120, { start: true, searchdomain: 'example.com' });
    await guest(120).config.$put({
      cores: 2,
      memory: 1024,
      hostname: 'renamed',
      features: 'nesting=1,keyctl=1',
      nameserver: '1.1.1.1',
      delete: 'searchdomain',
    });

    const current = await guest(120).config.$get({ current: true });
    expect(current).toMatchObject({
      cores: 2,
      memory: 1024,
      hostname: 'renamed',
      features: 'nesting=1',
      searchdomain: 'example.com',
    });
    expect(current.nameserver).toBeUndefined();
    const withPending = await guest(120).config.$get();
    expect(withPending).toMatchObject({ features: 'nesting=1,keyctl=1', nameserver: '1.1.1.1' });
    expect(withPending.searchdomain).toBeUndefined();
    expect((await guest(120).status.current.$get()).maxmem).toBe(1024 * 1024 * 1024);

    const entries = await pendingOf(120);
    expect(entries).toEqual(
      expect.arrayContaining([
        { key: 'features', value: 'nesting=1', pending: 'nesting=1,keyctl=1' },
        { key: 'nameserver', pending: '1.1.1.1' },
        { key: 'searchdomain', value: 'example.com', delete: 1 },
        { key: 'cores', value: 2 },
        { key: 'hostname', value: 'renamed' },
        { key: 'digest', value: withPending.digest },
      ]),
    );
    expect(entries.filter((entry) => 'pending' in entry || 'delete' in entry)).toHaveLength(3);
    expect(await statePending(120)).toEqual(['features', 'nameserver', 'searchdomain']);

    expect((await fx.waitTask(await guest(120).status.reboot.$post())).exitstatus).toBe('OK');
    const applied = await guest(120).config.$get({ current: true });
    expect(applied).toMatchObject({ features: 'nesting=1,keyctl=1', nameserver: '1.1.1.1' });
    expect(applied.searchdomain).toBeUndefined();
    expect((await pendingOf(120)).filter((e) => 'pending' in e || 'delete' in e)).toEqual([]);
    expect(await statePending(120)).toEqual([]);
  });

  it('applies everything at once on a stopped container', async () => {
    await fx.createContainer(121);
    await guest(121).config.$put({ features: 'nesting=1,keyctl=1', nameserver: '9.9.9.9' });
    expect(await guest(121).config.$get({ current: true })).toMatchObject({
      features: 'nesting=1,keyctl=1',
      nameserver: '9.9.9.9',
    });
    expect(await statePending(121)).toEqual([]);
  });

  it('reverts a pending change, counts it in the digest, and applies the rest when the container stops', async () => {
    await fx.createContainer(122, { start: true });
    const before = await guest(122).config.$get();
    await guest(122).config.$put({ nameserver: '1.1.1.1', timezone: 'Europe/Vienna' });
    const after = await guest(122).config.$get();
    expect(after.digest).not.toBe(before.digest);
    expect(await apiError(guest(122).config.$put({ cores: 4, digest: before.digest }))).toContain(
      'detected modified configuration - file changed by other user? Try again.',
    );

    await guest(122).config.$put({ revert: 'nameserver' });
    expect(await statePending(122)).toEqual(['timezone']);
    expect((await fx.waitTask(await guest(122).status.stop.$post())).exitstatus).toBe('OK');
    const stopped = await guest(122).config.$get({ current: true });
    expect(stopped.timezone).toBe('Europe/Vienna');
    expect(stopped.nameserver).toBeUndefined();
    expect(await statePending(122)).toEqual([]);
  });

  it('shows pending values in pct config unless --current, and refuses current with snapshot', async () => {
    await fx.createContainer(123, { start: true });
    await guest(123).config.$put({ nameserver: '1.1.1.1' });
    expect((await fx.exec('pct config 123')).stdout).toContain('nameserver: 1.1.1.1\n');
    expect((await fx.exec('pct config 123 --current')).stdout).not.toContain('nameserver');
    const refused = await apiError(guest(123).config.$get({ current: true, snapshot: 'before' }));
    expect(refused).toContain(`"current":"cannot use 'snapshot' parameter with 'current'"`);
    expect(refused).toContain(`"snapshot":"cannot use 'snapshot' parameter with 'current'"`);
  });
});
