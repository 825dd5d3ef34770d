import proxmoxApi from 'proxmox-api';
import type { Agent } from 'undici';
import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ProxmoxApiGateway } from './proxmox-api.gateway';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
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

  beforeAll(async () => {
    fixture = await SimulatorFixture.start();
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
    await gateway.waitForTask(connection(), 'pve1', upid, { deadlineMs: 5000, pollMs: 20 });
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
      gateway.waitForTask(connection(), 'pve1', upid, { deadlineMs: 5000, pollMs: 20 }),
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
      gateway.waitForTask(connection(), 'pve1', upid, { deadlineMs: 300, pollMs: 50 }),
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
    const err = await caught(
      gateway.waitForTask(connection(), 'pve1#frag?q=1', upid, { deadlineMs: 2000, pollMs: 20 }),
    );
    // Proxmox (here the simulator) looked up the whole name: nothing became a fragment or query.
    expect(err.upstream).toContain("hostname lookup 'pve1#frag?q=1' failed");
  });

  it('refuses a dot segment before sending anything', async () => {
    const calls = (await fixture.state()).calls;
    const upid = 'UPID:pve1:00000001:00000001:00000001:vzstart:101:root@pam:';
    for (const node of ['..', '.']) {
      const err = await caught(
        gateway.waitForTask(connection(), node, upid, { deadlineMs: 2000, pollMs: 20 }),
      );
      expect(err.kind).toBe(ProxmoxErrorKind.InvalidRequest);
    }
    await caught(
      gateway.waitForTask(connection(), '../..', upid, { deadlineMs: 2000, pollMs: 20 }),
    );
    // '../..' is one segment, sent encoded; the two dot segments never left.
    expect((await fixture.state()).calls).toBe(calls + 1);
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
});
