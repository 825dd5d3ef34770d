import proxmoxApi from 'proxmox-api';
import type { Agent } from 'undici';
import { SimulatorFixture, TEMPLATE } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ProxmoxApiGateway } from './proxmox-api.gateway';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
import type { ContainerSpec } from './proxmox-gateway';
import { MAX_ANSWER_BYTES, ProxmoxHttpEngine } from './proxmox-http-engine';
import { createDispatcher } from './tls-dispatcher';
import { tcpHandles, waitFor } from '../shell/testing/shell-fixture';

describe('ProxmoxApiGateway against the simulator', () => {
  let fixture: SimulatorFixture;
  const gateway = new ProxmoxApiGateway();
  const dispatchers: Agent[] = [];

  const connection = (overrides: Partial<ProxmoxConnection> = {}): ProxmoxConnection => ({
    host: '127.0.0.1',
    port: fixture.sim.port,
    auth: { tokenId: fixture.sim.tokenId, tokenSecret: fixture.sim.tokenSecret },
    tls: { fingerprint: fixture.sim.tlsFingerprint },
    timeoutMs: 2000,
    ...overrides,
  });

  /** The typed client on our engine, for driving container operations in these tests. */
  const api = (conn = connection()) => {
    const dispatcher = createDispatcher(conn.tls, conn.timeoutMs);
    dispatchers.push(dispatcher);
    return proxmoxApi(new ProxmoxHttpEngine(conn, dispatcher));
  };

  const faults = async () =>
    ((await fixture.control('GET', '/_sim/faults')).body as { rules: { fired: number }[] }).rules;

  const caught = async (work: Promise<unknown>): Promise<ProxmoxError> => {
    try {
      await work;
    } catch (err) {
      if (err instanceof ProxmoxError) return err;
      throw err;
    }
    throw new Error('expected a ProxmoxError');
  };

  let vmid = 500;
  const guest = async (status: 'running' | 'stopped' = 'stopped') => {
    vmid += 1;
    await fixture.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid,
      hostname: `g${vmid}`,
      status,
    });
    return vmid;
  };

  const spec = (id: number, overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
    node: 'pve1',
    vmid: id,
    hostname: `app${id}`,
    template: TEMPLATE,
    storage: 'local-lvm',
    diskGb: 4,
    bridge: 'vmbr0',
    cores: 1,
    memoryMb: 512,
    swapMb: 512,
    password: 'root-pw-secret-42',
    features: 'nesting=1',
    tags: ['proximity', `app-${id}`],
    description: `proximity application ${id}`,
    ...overrides,
  });
  const wait = { deadlineMs: 10_000, pollMs: 10 };

  beforeAll(async () => {
    fixture = await SimulatorFixture.start({ nodeAddresses: { pve2: '127.0.0.2' } });
  });
  afterAll(async () => {
    await Promise.all(dispatchers.map((d) => d.destroy()));
    await fixture?.close();
  });
  afterEach(async () => {
    await fixture.control('DELETE', '/_sim/faults');
    await fixture.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  it('reads the version and the nodes with a token and with a ticket', async () => {
    const ticket = connection({
      auth: { username: fixture.sim.username, password: fixture.sim.password },
    });
    for (const conn of [connection(), ticket]) {
      expect((await gateway.version(conn)).version).toEqual(expect.any(String));
      const nodes = await gateway.listNodes(conn);
      expect(nodes.map((n) => n.name)).toEqual(['pve1', 'pve2']);
      expect(nodes[0]).toMatchObject({ online: true, cpus: expect.any(Number) });
      expect(nodes[0].memoryFree).toBeLessThanOrEqual(nodes[0].memoryTotal);
    }
  });

  it("reads each node's address from the cluster status", async () => {
    expect(await gateway.nodeAddresses(connection())).toEqual(
      new Map([
        ['pve1', '127.0.0.1'],
        ['pve2', '127.0.0.2'],
      ]),
    );
  });

  it('retries a read once after a dropped connection', async () => {
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ method: 'GET', path: '/version$', dropConnection: true, times: 1 }],
    });
    expect((await gateway.version(connection())).version).toEqual(expect.any(String));
    expect((await faults())[0].fired).toBe(1);
  });

  it('never sends a write twice: a dropped POST fails, typed, and was tried once', async () => {
    const id = await guest('stopped');
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ method: 'POST', path: `/lxc/${id}/status/start$`, dropConnection: true }],
    });
    const err = await caught(api().nodes.$('pve1').lxc.$(id).status.start.$post());
    expect(err.kind).toBe(ProxmoxErrorKind.Unreachable);
    expect((await faults())[0].fired).toBe(1);
    const state = await fixture.state();
    expect(state.containers.find((c) => c.vmid === id)?.status).toBe('stopped');
  });

  it('waits for a task to end OK', async () => {
    const id = await guest('stopped');
    const upid = await api().nodes.$('pve1').lxc.$(id).status.start.$post();
    await gateway.waitForTask(connection(), upid, { deadlineMs: 5000, pollMs: 20 });
    expect((await fixture.state()).containers.find((c) => c.vmid === id)?.status).toBe('running');
  });

  it('a failed task throws TaskFailed with our wording and the log tail kept for the server log', async () => {
    const id = await guest('stopped');
    await fixture.control('POST', '/_sim/faults', {
      rules: [
        {
          method: 'POST',
          path: `/lxc/${id}/status/start$`,
          failTask: 'startup for container failed (secret=hunter2)',
        },
      ],
    });
    const upid = await api().nodes.$('pve1').lxc.$(id).status.start.$post();
    const err = await caught(
      gateway.waitForTask(connection(), upid, { deadlineMs: 5000, pollMs: 20 }),
    );
    expect(err.kind).toBe(ProxmoxErrorKind.TaskFailed);
    expect(err.message).toBe('a Proxmox task failed');
    expect(err.message).not.toContain('hunter2');
    expect(err.upstream).toContain('TASK ERROR: startup for container failed');
  });

  it('a task still running at its deadline throws Timeout within the deadline', async () => {
    await fixture.control('POST', '/_sim/latency', { taskMs: 5000 });
    const id = await guest('stopped');
    const upid = await api().nodes.$('pve1').lxc.$(id).status.start.$post();
    const started = Date.now();
    const err = await caught(
      gateway.waitForTask(connection(), upid, { deadlineMs: 300, pollMs: 50 }),
    );
    expect(err.kind).toBe(ProxmoxErrorKind.Timeout);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('classifies Proxmox refusals', async () => {
    const running = await guest('running');
    expect((await caught(api().nodes.$('pve1').lxc.$(running).status.start.$post())).kind).toBe(
      ProxmoxErrorKind.WrongState,
    );
    expect((await caught(api().nodes.$('pve1').lxc.$(99_999).status.current.$get())).kind).toBe(
      ProxmoxErrorKind.NotFound,
    );
    const bad = connection({
      auth: { tokenId: fixture.sim.tokenId, tokenSecret: '00000000-0000-4000-8000-000000000000' },
    });
    expect((await caught(gateway.version(bad))).kind).toBe(ProxmoxErrorKind.AuthFailed);
    const wrongPin = connection({ tls: { fingerprint: 'AA:'.repeat(31) + 'AA' } });
    expect((await caught(gateway.version(wrongPin))).kind).toBe(ProxmoxErrorKind.TlsRejected);
  });

  it('sends a node name as one path segment, whatever characters it holds', async () => {
    const upid = 'UPID:pve1:00000001:00000001:00000001:vzstart:101:root@pam:';
    const err = await caught(api().nodes.$('pve1#frag?q=1').tasks.$(upid).status.$get());
    // Proxmox (here the simulator) looked up the whole name: nothing became a fragment or query.
    expect(err.upstream).toContain("hostname lookup 'pve1#frag?q=1' failed");
  });

  it('refuses a dot segment before sending anything', async () => {
    const calls = (await fixture.state()).calls;
    const upid = 'UPID:pve1:00000001:00000001:00000001:vzstart:101:root@pam:';
    for (const node of ['..', '.']) {
      const err = await caught(api().nodes.$(node).tasks.$(upid).status.$get());
      expect(err.kind).toBe(ProxmoxErrorKind.InvalidRequest);
    }
    await caught(api().nodes.$('../..').tasks.$(upid).status.$get());
    // '../..' is one segment, sent encoded; the two dot segments never left.
    expect((await fixture.state()).calls).toBe(calls + 1);
  });

  it('refuses an invalid node name, VMID, UPID or property value before sending anything', async () => {
    const calls = (await fixture.state()).calls;
    const refused = [
      gateway.containerStatus(connection(), { node: 'pve1#x', vmid: 101 }),
      gateway.containerStatus(connection(), { node: '..', vmid: 101 }),
      gateway.startContainer(connection(), { node: 'pve1', vmid: 99 }),
      gateway.stopContainer(connection(), { node: 'pve1', vmid: 101.5 }),
      gateway.waitForTask(
        connection(),
        'UPID:pve1#x:00000001:00000001:00000001:vzstart:101:root@pam:',
        {
          deadlineMs: 1000,
        },
      ),
      gateway.waitForTask(connection(), 'not-a-upid', { deadlineMs: 1000 }),
      gateway.createContainer(connection(), { ...spec(777), bridge: 'vmbr0,ip=1.2.3.4/24' }),
      gateway.createContainer(connection(), { ...spec(777), storage: 'local-lvm:1,size=9' }),
    ];
    for (const call of refused)
      expect((await caught(call)).kind).toBe(ProxmoxErrorKind.InvalidRequest);
    expect((await fixture.state()).calls).toBe(calls);
  });

  it('aborts reading an answer past the size cap', async () => {
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ path: '/version$', padBytes: MAX_ANSWER_BYTES + 1 }],
    });
    // A generous timeout: compressing and sending 8 MiB is slow on a loaded machine.
    const conn = connection({ timeoutMs: 30_000 });
    expect((await caught(gateway.version(conn))).kind).toBe(ProxmoxErrorKind.AnswerTooLarge);
  });

  it('fails closed on a TLS policy that is neither a pin nor the literal opt-out', async () => {
    const calls = (await fixture.state()).calls;
    const broken = [{ fingerprint: '' }, { insecure: false }, { caCert: '' }, {}];
    for (const tls of broken) {
      const conn = connection({ tls: tls as unknown as ProxmoxConnection['tls'] });
      expect((await caught(gateway.version(conn))).kind).toBe(ProxmoxErrorKind.TlsNotPinned);
    }
    expect((await fixture.state()).calls).toBe(calls);
  });

  it('leaves no socket open after failed calls', async () => {
    const baseline = tcpHandles();
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ path: '/version$', delayMs: 1500, times: 2 }],
    });
    const failures = [
      connection({ timeoutMs: 300 }),
      connection({ tls: { fingerprint: 'AA:'.repeat(31) + 'AA' } }),
      connection({
        auth: { tokenId: fixture.sim.tokenId, tokenSecret: '00000000-0000-4000-8000-000000000000' },
      }),
      connection({ port: 1 }),
    ];
    for (const conn of failures) await caught(gateway.version(conn));
    expect(await waitFor(() => tcpHandles() <= baseline, 3000)).toBe(true);
  });

  it('renews an expired ticket once instead of failing', async () => {
    const ticket = connection({
      auth: { username: fixture.sim.username, password: fixture.sim.password },
    });
    const client = api(ticket);
    await client.version.$get();
    await fixture.control('POST', '/_sim/faults', {
      rules: [
        {
          method: 'GET',
          path: '/nodes$',
          status: 401,
          message: 'Authentication failed!',
          times: 1,
        },
      ],
    });
    expect((await client.nodes.$get()).length).toBe(2);
  });

  it('creates a container without starting it, then starts, reads, shuts down and destroys it', async () => {
    const conn = connection();
    const ref = { node: 'pve1', vmid: 700 };
    const created = await gateway.createContainer(conn, spec(700));
    expect(created).toMatch(/^UPID:pve1:.*:vzcreate:700:/);
    await gateway.waitForTask(conn, created, wait);
    expect(await gateway.containerStatus(conn, ref)).toMatchObject({
      status: 'stopped',
      lock: null,
    });
    const config = await gateway.containerConfig(conn, ref);
    expect(config).toMatchObject({
      hostname: 'app700',
      features: 'nesting=1',
      unprivileged: '1',
      tags: 'app-700;proximity',
      description: expect.stringContaining('proximity application 700'),
    });
    expect(config.net0).toContain('bridge=vmbr0');
    expect(await gateway.containerInterfaces(conn, ref)).toBeNull();

    await gateway.waitForTask(conn, await gateway.startContainer(conn, ref), wait);
    const status = await gateway.containerStatus(conn, ref);
    expect(status).toMatchObject({ status: 'running', memoryTotal: 512 * 1024 * 1024 });
    // With ip=dhcp the address comes with the lease, after the start.
    const eth0 = () =>
      gateway.containerInterfaces(conn, ref).then((all) => all?.find((i) => i.name === 'eth0'));
    const leased = await fixture.until(eth0, (found) => (found?.ipv4.length ?? 0) > 0);
    const ip = (await fixture.state()).containers.find((c) => c.vmid === 700)?.ip;
    expect(leased?.ipv4).toEqual([ip]);
    expect(await gateway.listClusterGuests(conn)).toContainEqual({
      vmid: 700,
      node: 'pve1',
      type: 'lxc',
    });

    await gateway.waitForTask(conn, await gateway.shutdownContainer(conn, ref, 5), wait);
    expect((await gateway.containerStatus(conn, ref)).status).toBe('stopped');
    await gateway.waitForTask(conn, await gateway.destroyContainer(conn, ref), wait);
    expect((await caught(gateway.containerStatus(conn, ref))).kind).toBe(ProxmoxErrorKind.NotFound);
    expect((await fixture.state()).containers.some((c) => c.vmid === 700)).toBe(false);
  });

  it('stops a running container hard', async () => {
    const id = await guest('running');
    const ref = { node: 'pve1', vmid: id };
    await gateway.waitForTask(connection(), await gateway.stopContainer(connection(), ref), wait);
    expect((await gateway.containerStatus(connection(), ref)).status).toBe('stopped');
  });

  it('waits for a task on the node named in its UPID', async () => {
    vmid += 1;
    await fixture.control('POST', '/_sim/guests', {
      node: 'pve2',
      vmid,
      hostname: `g${vmid}`,
      status: 'stopped',
    });
    const upid = await gateway.startContainer(connection(), { node: 'pve2', vmid });
    expect(upid.split(':')[1]).toBe('pve2');
    await gateway.waitForTask(connection(), upid, wait);
    expect((await gateway.containerStatus(connection(), { node: 'pve2', vmid })).status).toBe(
      'running',
    );
  });

  it('sets keyctl in the create call as root@pam; a token is refused it, as on Proxmox', async () => {
    const root = connection({
      auth: { username: fixture.sim.username, password: fixture.sim.password },
    });
    const features = 'nesting=1,keyctl=1';
    await gateway.waitForTask(
      root,
      await gateway.createContainer(root, spec(710, { features })),
      wait,
    );
    expect((await gateway.containerConfig(root, { node: 'pve1', vmid: 710 })).features).toBe(
      features,
    );
    const err = await caught(gateway.createContainer(connection(), spec(711, { features })));
    expect(err.kind).toBe(ProxmoxErrorKind.PermissionDenied);
    expect(err.failureClass).toBe('permanent');
  });

  it('classifies failures as retryable, permanent or a VMID conflict', async () => {
    const conn = connection();
    const running = await guest('running');
    const lockText = `can't lock file '/run/lock/lxc/pve-config-${running}.lock' - got timeout`;
    await fixture.control('POST', '/_sim/faults', {
      rules: [
        { method: 'GET', path: '/status/current$', status: 500, message: lockText, times: 1 },
        { method: 'POST', path: '/status/shutdown$', failTask: lockText, times: 1 },
        { method: 'GET', path: '/config$', status: 500, message: 'internal error', times: 1 },
        { method: 'POST', path: '/status/stop$', dropConnection: true, times: 1 },
      ],
    });
    const ref = { node: 'pve1', vmid: running };
    const locked = await caught(gateway.containerStatus(conn, ref));
    expect([locked.kind, locked.failureClass]).toEqual([ProxmoxErrorKind.Busy, 'retryable']);
    const upid = await gateway.shutdownContainer(conn, ref, 5);
    const failedTask = await caught(gateway.waitForTask(conn, upid, wait));
    expect([failedTask.kind, failedTask.taskReason, failedTask.failureClass]).toEqual([
      ProxmoxErrorKind.TaskFailed,
      ProxmoxErrorKind.Busy,
      'retryable',
    ]);
    const serverError = await caught(gateway.containerConfig(conn, ref));
    expect([serverError.status, serverError.failureClass]).toEqual([500, 'retryable']);
    const dropped = await caught(gateway.stopContainer(conn, ref));
    expect([dropped.kind, dropped.failureClass]).toEqual([
      ProxmoxErrorKind.Unreachable,
      'retryable',
    ]);

    const duplicate = await caught(gateway.createContainer(conn, spec(running)));
    expect([duplicate.kind, duplicate.failureClass]).toEqual([
      ProxmoxErrorKind.AlreadyExists,
      'vmid_conflict',
    ]);
    const badParameter = await caught(gateway.createContainer(conn, spec(720, { cores: 0 })));
    expect([badParameter.status, badParameter.failureClass]).toEqual([400, 'permanent']);
    const missing = await caught(gateway.containerStatus(conn, { node: 'pve1', vmid: 98_765 }));
    expect(missing.failureClass).toBe('permanent');
  });

  it('a task wait that outlives its deadline is a retryable Timeout, even with slow status reads', async () => {
    await fixture.control('POST', '/_sim/faults', {
      rules: [{ method: 'GET', path: '/tasks/.*/status$', delayMs: 3000 }],
    });
    const upid = await gateway.startContainer(connection(), { node: 'pve1', vmid: await guest() });
    const err = await caught(
      gateway.waitForTask(connection({ timeoutMs: 10_000 }), upid, { deadlineMs: 300, pollMs: 10 }),
    );
    expect([err.kind, err.failureClass]).toEqual([ProxmoxErrorKind.Timeout, 'retryable']);
  });

  // --- reconciler ---
  it('lists guests with their tags and lock, and lists and deletes snapshots', async () => {
    vmid += 1;
    const tagged = vmid;
    await fixture.control('POST', '/_sim/guests', {
      node: 'pve2',
      vmid: tagged,
      hostname: `g${tagged}`,
      tags: ['Proximity', 'web'],
    });
    const listed = await gateway.listTaggedGuests(connection());
    expect(listed.find((g) => g.vmid === tagged)).toEqual({
      vmid: tagged,
      node: 'pve2',
      type: 'lxc',
      tags: ['proximity', 'web'],
      lock: null,
    });
    const ref = { node: 'pve2', vmid: tagged };
    const ct = api().nodes.$('pve2').lxc.$(tagged);
    await gateway.waitForTask(connection(), await ct.snapshot.$post({ snapname: 'prxabc' }), wait);
    expect(await gateway.listSnapshots(connection(), ref)).toEqual(['prxabc']);
    await gateway.waitForTask(
      connection(),
      await gateway.deleteSnapshot(connection(), ref, 'prxabc'),
      wait,
    );
    expect(await gateway.listSnapshots(connection(), ref)).toEqual([]);
    const calls = (await fixture.state()).calls;
    for (const name of ['../current', 'a b', '1abc', 'current/rollback']) {
      expect((await caught(gateway.deleteSnapshot(connection(), ref, name))).kind).toBe(
        ProxmoxErrorKind.InvalidRequest,
      );
    }
    expect((await fixture.state()).calls).toBe(calls);
  });

  // --- clone ---

  it('snapshots a running container, clones it from the snapshot, relabels the clone and deletes the snapshot', async () => {
    const conn = connection();
    await gateway.waitForTask(conn, await gateway.createContainer(conn, spec(720)), wait);
    const source = { node: 'pve1', vmid: 720 };
    await gateway.waitForTask(conn, await gateway.startContainer(conn, source), wait);
    await gateway.waitForTask(conn, await gateway.createSnapshot(conn, source, 'prxtemp'), wait);
    expect(await gateway.listSnapshots(conn, source)).toEqual(['prxtemp']);

    const clone = { newVmid: 721, hostname: 'copy721', storage: 'local-lvm', description: 'mine' };
    // Proxmox clones a running container only from a snapshot.
    const refused = await caught(
      gateway.cloneContainer(conn, source, { ...clone, snapshot: null }),
    );
    expect(refused.upstream).toContain('only possible from a snapshot');
    // Long enough that the clone still runs when the locks are read.
    await fixture.control('POST', '/_sim/latency', { taskMs: 1500 });
    const upid = await gateway.cloneContainer(conn, source, { ...clone, snapshot: 'prxtemp' });
    expect((await gateway.containerStatus(conn, source)).lock).toBe('disk');
    await fixture.control('POST', '/_sim/latency', { taskMs: 10 });
    // A locked container keeps its snapshots: the delete's task fails.
    const locked = await caught(
      gateway
        .deleteSnapshot(conn, source, 'prxtemp')
        .then((del) => gateway.waitForTask(conn, del, wait)),
    );
    expect(locked).toMatchObject({
      kind: ProxmoxErrorKind.TaskFailed,
      taskReason: ProxmoxErrorKind.Locked,
    });
    await gateway.waitForTask(conn, upid, wait);

    const ref = { node: 'pve1', vmid: 721 };
    expect(await gateway.containerConfig(conn, ref)).toMatchObject({
      hostname: 'copy721',
      description: expect.stringContaining('mine'),
      tags: 'app-720;proximity',
    });
    await gateway.setContainerLabels(conn, ref, {
      tags: ['proximity', 'app-721'],
      description: 'new',
    });
    expect(await gateway.containerConfig(conn, ref)).toMatchObject({
      tags: 'app-721;proximity',
      description: expect.stringContaining('new'),
    });
    await gateway.waitForTask(conn, await gateway.deleteSnapshot(conn, source, 'prxtemp'), wait);
    expect(await gateway.listSnapshots(conn, source)).toEqual([]);
  });

  it('refuses a malformed snapshot name before sending anything', async () => {
    const ref = { node: 'pve1', vmid: 720 };
    for (const name of ['../x', '1abc', '']) {
      expect((await caught(gateway.createSnapshot(connection(), ref, name))).kind).toBe(
        ProxmoxErrorKind.InvalidRequest,
      );
    }
  });
});
