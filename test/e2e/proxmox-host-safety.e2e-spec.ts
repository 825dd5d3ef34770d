import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { buildOrmOptions } from '../../src/database/orm-options';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { databaseUrl, workerDatabase } from '../support/databases';
import { expectError } from '../support/expectations';
import { simulatorHostBody } from '../support/hosts';
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
      ...simulatorHostBody(sim.sim, `safe-${counter}`, 500_000 + counter * 1000),
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

  // First: these hosts take the default VMID blocks, so no other host may exist yet.
  describe('default VMID ranges', () => {
    const range = (h: { vmidMin: number; vmidMax: number }) => `${h.vmidMin}-${h.vmidMax}`;
    const noRange = { vmidMin: undefined, vmidMax: undefined };

    it('each host without a range gets the next free block of 10,000, skipping taken ones', async () => {
      const first = [await create(noRange), await create(noRange), await create(noRange)];
      expect(first.map(range)).toEqual(['10000-19999', '20000-29999', '30000-39999']);
      await create({ vmidMin: 40_500, vmidMax: 40_600 });
      expect(range(await create(noRange))).toBe('50000-59999');
    });

    it('hosts created in parallel without a range get distinct blocks', async () => {
      const results = await Promise.all(
        [0, 1, 2, 3, 4].map(() =>
          t.http().post('/api/proxmox/hosts').set(bearer(admin)).send(hostBody(noRange)),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      const ranges = results.map((r) => range(r.body as { vmidMin: number; vmidMax: number }));
      expect(ranges.sort()).toEqual([
        '100000-109999',
        '60000-69999',
        '70000-79999',
        '80000-89999',
        '90000-99999',
      ]);
    });
  });

  describe('POST /:id/test checks the API and SSH', () => {
    it('ok when both answer, with the version and the SSH result', async () => {
      const host = await create();
      const res = await testHost(host.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ok: true,
        version: expect.any(String),
        latencyMs: expect.any(Number),
        ssh: {
          ok: true,
          nodes: [
            { node: 'pve1', ok: true },
            { node: 'pve2', ok: true },
          ],
        },
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
        const res = await testHost(host.id);
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

  describe('database constraints, for rows written around the service', () => {
    let rows = 0;
    /** A row the service would accept, as SQL columns. */
    const validRow = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
      rows += 1;
      return {
        id: randomUUID(),
        name: `sql-${rows}`,
        host: '10.0.0.1',
        port: 8006,
        token_id: 'root@pam!x',
        token_secret: 'sealed',
        tls_fingerprint: 'AB:'.repeat(31) + 'AB',
        ca_cert: null,
        tls_insecure: false,
        ssh_port: 22,
        ssh_password: 'sealed',
        ssh_host_key_fingerprint: 'SHA256:' + 'A'.repeat(43),
        ssh_insecure: false,
        storage: 'local-lvm',
        backup_storage: 'local',
        bridge: 'vmbr0',
        template: 'local:vztmpl/x.tar.zst',
        vmid_min: 700_000 + rows * 1000,
        vmid_max: 700_000 + rows * 1000 + 999,
        port_min: 30_000,
        port_max: 32_767,
        created_at: new Date(),
        updated_at: new Date(),
        ...overrides,
      };
    };
    const insert = (row: Record<string, unknown>) => {
      const columns = Object.keys(row);
      return sql(
        `insert into proxmox_host (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        Object.values(row),
      );
    };
    const refusal = async (row: Record<string, unknown>): Promise<string> => {
      try {
        await insert(row);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('the database accepted the row');
    };

    it('accepts valid rows: pinned by fingerprint, by CA, or explicitly insecure', async () => {
      await insert(validRow());
      await insert(validRow({ tls_fingerprint: null, ca_cert: 'PEM' }));
      await insert(
        validRow({
          tls_fingerprint: null,
          tls_insecure: true,
          ssh_host_key_fingerprint: null,
          ssh_insecure: true,
        }),
      );
    });

    it.each([
      ['no TLS pin and no opt-out', { tls_fingerprint: null }, 'proxmox_host_tls_pinned'],
      ['no SSH pin and no opt-out', { ssh_host_key_fingerprint: null }, 'proxmox_host_ssh_pinned'],
      ['API port 0', { port: 0 }, 'proxmox_host_api_port'],
      ['API port 65536', { port: 65_536 }, 'proxmox_host_api_port'],
      ['SSH port 0', { ssh_port: 0 }, 'proxmox_host_ssh_port'],
      ['SSH port 65536', { ssh_port: 65_536 }, 'proxmox_host_ssh_port'],
      ['a port pool from 0', { port_min: 0 }, 'proxmox_host_port_bounds'],
      ['a port pool past 65535', { port_max: 65_536 }, 'proxmox_host_port_bounds'],
      ['a reversed port pool', { port_min: 32_000, port_max: 31_000 }, 'proxmox_host_port_range'],
      ['a VMID below 100', { vmid_min: 99 }, 'proxmox_host_vmid_bounds'],
      ['a VMID past 999999999', { vmid_max: 1_000_000_000 }, 'proxmox_host_vmid_bounds'],
      [
        'a reversed VMID range',
        { vmid_min: 900_500, vmid_max: 900_400 },
        'proxmox_host_vmid_range',
      ],
    ])('refuses %s', async (_name, overrides, constraint) => {
      expect(await refusal(validRow(overrides))).toContain(`"${constraint}"`);
    });

    it('refuses a VMID range overlapping another host, even by one id; adjacent is fine', async () => {
      await insert(validRow({ vmid_min: 800_000, vmid_max: 800_999 }));
      expect(await refusal(validRow({ vmid_min: 800_999, vmid_max: 801_500 }))).toContain(
        '"proxmox_host_vmid_disjoint"',
      );
      expect(await refusal(validRow({ vmid_min: 799_000, vmid_max: 805_000 }))).toContain(
        '"proxmox_host_vmid_disjoint"',
      );
      await insert(validRow({ vmid_min: 801_000, vmid_max: 801_999 }));
    });

    it('two hosts created in parallel with overlapping ranges, the table lock bypassed: one is refused', async () => {
      const results = await Promise.allSettled(
        [0, 1].map(() => insert(validRow({ vmid_min: 810_000, vmid_max: 810_999 }))),
      );
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    });

    it('the migration applies over existing valid rows', async () => {
      const url = databaseUrl(workerDatabase('hostconstraints'));
      const orm = await MikroORM.init({
        ...buildOrmOptions({ ...t.config.database, url }),
        pool: { min: 0, max: 2 },
        logger: () => undefined,
      });
      try {
        await orm.schema.ensureDatabase();
        await orm.migrator.up({ to: 'Migration20261129010000ProxmoxHosts' });
        const connection = orm.em.getConnection();
        for (const row of [
          validRow(),
          validRow({ tls_fingerprint: null, ca_cert: 'PEM' }),
          validRow({ tls_fingerprint: null, tls_insecure: true }),
          validRow({ ssh_host_key_fingerprint: null, ssh_insecure: true }),
        ]) {
          const columns = Object.keys(row);
          await connection.execute(
            `insert into proxmox_host (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
            Object.values(row),
          );
        }
        const applied = await orm.migrator.up();
        expect(applied.map((m) => m.name)).toContain('Migration20261130010000HostConstraints');
        expect(await orm.migrator.getPendingMigrations()).toEqual([]);
        const [{ count }] = await connection.execute<{ count: string }[]>(
          'select count(*) from proxmox_host',
        );
        expect(Number(count)).toBe(4);
      } finally {
        await orm.close(true);
      }
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
