import { EntityManager } from '@mikro-orm/postgresql';
import { createServer, type Server, type Socket } from 'node:net';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** A TCP endpoint that accepts connections and never says a word; counts them. */
class SilentServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  accepted = 0;

  private constructor() {
    this.server = createServer((socket) => {
      this.accepted += 1;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<SilentServer> {
    const silent = new SilentServer();
    await new Promise<void>((resolve) => silent.server.listen(0, '127.0.0.1', resolve));
    return silent;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('Proxmox host safety', () => {
  let t: TestApp;
  let admin: Session;
  let sim: SimulatorFixture;
  let counter = 0;

  const hostBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    counter += 1;
    return {
      name: `safe-${counter}`,
      host: '127.0.0.1',
      port: sim.sim.port,
      tokenId: sim.sim.tokenId,
      tokenSecret: sim.sim.tokenSecret,
      tlsFingerprint: sim.sim.tlsFingerprint,
      sshPort: sim.sim.sshPort,
      sshPassword: sim.sim.sshPassword,
      sshHostKeyFingerprint: sim.sim.sshHostKeyFingerprint,
      vmidMin: 500_000 + counter * 1000,
      vmidMax: 500_000 + counter * 1000 + 999,
      ...overrides,
    };
  };

  const create = async (overrides: Record<string, unknown> = {}) => {
    const res = await t
      .http()
      .post('/api/proxmox/hosts')
      .set(bearer(admin))
      .send(hostBody(overrides));
    if (res.status !== 201)
      throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as { id: string; name: string; vmidMin: number; vmidMax: number };
  };

  const sql = (query: string, params: unknown[] = []) =>
    t.app.get(EntityManager).getConnection().execute(query, params);

  const testHost = (id: string) =>
    t.http().post(`/api/proxmox/hosts/${id}/test`).set(bearer(admin));
  const syncHost = (id: string) =>
    t.http().post(`/api/proxmox/hosts/${id}/sync`).set(bearer(admin));
  const nodeNames = async (hostId: string) =>
    (
      (await t.http().get(`/api/proxmox/nodes?hostId=${hostId}`).set(bearer(admin))).body.items as {
        node: string;
      }[]
    ).map((n) => n.node);

  beforeAll(async () => {
    // The default call timeout (15 s): the host test must answer within 10 s all the same.
    t = await startFreshApp();
    admin = await loginAdmin(t);
    sim = await SimulatorFixture.start();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(() => sim.control('DELETE', '/_sim/faults'));

  describe('POST /:id/test checks the API and SSH', () => {
    it('ok when both answer, with the version and the SSH result', async () => {
      const host = await create();
      const res = await testHost(host.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ok: true,
        version: expect.any(String),
        latencyMs: expect.any(Number),
        ssh: { ok: true },
      });
    });

    it('a wrong SSH password: not ok, although the API answers', async () => {
      const host = await create({ sshPassword: 'wrong-ssh-password' });
      const res = await testHost(host.id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        ok: false,
        version: expect.any(String),
        ssh: { ok: false, reason: 'the SSH server rejected the credentials' },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|wrong-ssh-password|Error/);
    });

    it('a wrong SSH host key: not ok, in our words', async () => {
      const host = await create({
        sshHostKeyFingerprint: 'SHA256:' + 'A'.repeat(43),
      });
      expect((await testHost(host.id)).body).toMatchObject({
        ok: false,
        ssh: { ok: false, reason: 'the SSH host key does not match the pinned one' },
      });
    });

    it('a wrong API token with a working SSH: not ok, the SSH part says ok', async () => {
      const host = await create({ tokenSecret: '00000000-0000-4000-8000-000000000000' });
      expect((await testHost(host.id)).body).toEqual({
        ok: false,
        reason: 'Proxmox rejected the credentials',
        ssh: { ok: true },
      });
    });

    it('a host that accepts connections and never answers: the answer still comes, not ok', async () => {
      const silent = await SilentServer.start();
      try {
        const host = await create({
          port: silent.port,
          sshPort: silent.port,
          tlsFingerprint: undefined,
          tlsInsecure: true,
        });
        const started = Date.now();
        const res = await testHost(host.id);
        // Printed for the record, not asserted: timing assertions are flaky by nature.
        process.stdout.write(
          `host test against a silent host answered in ${Date.now() - started} ms\n`,
        );
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          ok: false,
          reason: 'Proxmox did not answer in time',
          ssh: { ok: false, reason: 'SSH did not answer in time' },
        });
        expect(silent.accepted).toBeGreaterThanOrEqual(2);
      } finally {
        await silent.close();
      }
    });
  });

  describe('node names and answer sizes from Proxmox', () => {
    const node = (name: unknown) => ({
      node: name,
      status: 'online',
      maxcpu: 4,
      maxmem: 8_000_000_000,
      mem: 1_000_000_000,
      maxdisk: 100_000_000_000,
      disk: 1_000_000_000,
    });

    it('skips nodes whose names are not Proxmox node names, with a log line', async () => {
      const host = await create();
      const hostile = ['../../access', 'pve1/../x', 'a?b#c', '-pve', 'x'.repeat(64), 42, 'n%2e'];
      await sim.control('POST', '/_sim/faults', {
        rules: [{ method: 'GET', path: '/nodes$', data: [node('pve1'), ...hostile.map(node)] }],
      });
      const res = await syncHost(host.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ nodes: 1 });
      expect(await nodeNames(host.id)).toEqual(['pve1']);
      const skipped = t.logs.lines.filter((line) => line.includes('not a valid node name'));
      expect(skipped).toHaveLength(hostile.length);
    });

    it('an answer over 8 MiB is refused: 502 in our words, nothing stored', async () => {
      const host = await create();
      await sim.control('POST', '/_sim/faults', {
        rules: [{ method: 'GET', path: '/nodes$', padBytes: 9 * 1024 * 1024 }],
      });
      const res = await syncHost(host.id);
      expect(expectError(res, 502).message).toBe(
        'Sync failed: Proxmox sent an answer larger than Proximity accepts',
      );
      expect(await nodeNames(host.id)).toEqual([]);
    });

    it('an answer under the cap is read', async () => {
      const host = await create();
      await sim.control('POST', '/_sim/faults', {
        rules: [{ method: 'GET', path: '/nodes$', padBytes: 1024 * 1024 }],
      });
      expect((await syncHost(host.id)).body).toEqual({ nodes: 2 });
    });
  });

  // Last: these rows are written around the API and the database constraints.
  describe('a host row that bypassed validation fails closed', () => {
    it('no TLS pin and no opt-out: no request reaches Proxmox; test and sync answer cleanly', async () => {
      const host = await create();
      await sql('alter table proxmox_host drop constraint if exists proxmox_host_tls_pinned');
      await sql(
        'update proxmox_host set tls_fingerprint = null, ca_cert = null, tls_insecure = false where id = ?',
        [host.id],
      );
      const calls = (await sim.state()).calls;
      const reason =
        'the host has no TLS fingerprint or CA certificate, and insecure TLS is not enabled';
      expect(expectError(await syncHost(host.id), 502).message).toBe(`Sync failed: ${reason}`);
      expect((await testHost(host.id)).body).toEqual({ ok: false, reason, ssh: { ok: true } });
      expect((await sim.state()).calls).toBe(calls);
    });

    it('no SSH host key and no opt-out: no SSH connection is made', async () => {
      const silent = await SilentServer.start();
      try {
        const host = await create({ sshPort: silent.port });
        await sql('alter table proxmox_host drop constraint if exists proxmox_host_ssh_pinned');
        await sql(
          'update proxmox_host set ssh_host_key_fingerprint = null, ssh_insecure = false where id = ?',
          [host.id],
        );
        expect((await testHost(host.id)).body).toMatchObject({
          ok: false,
          ssh: {
            ok: false,
            reason: 'the host has no SSH host key fingerprint, and insecure SSH is not enabled',
          },
        });
        expect(silent.accepted).toBe(0);
      } finally {
        await silent.close();
      }
    });
  });
});
