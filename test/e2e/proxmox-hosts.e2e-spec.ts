import { EntityManager } from '@mikro-orm/postgresql';
import { HostsService } from '../../src/proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../src/proxmox/hosts/proxmox-host.entity';
import { NodeShell } from '../../src/proxmox/shell/node-shell';
import { NodeShellError, NodeShellErrorKind } from '../../src/proxmox/shell/shell-errors';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { expectError } from '../support/expectations';
import { simulatorHostBody } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const TIMEOUT_MS = 1000;

describe('Proxmox hosts and nodes', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;
  let sim: SimulatorFixture;
  let other: SimulatorFixture;
  let counter = 0;

  const hostBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    counter += 1;
    return {
      ...simulatorHostBody(sim.sim, `pve-${counter}`, 100_000 + counter * 1000),
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
    return res.body as { id: string; name: string };
  };

  const sql = (query: string, params: unknown[] = []) =>
    t.app.get(EntityManager).getConnection().execute(query, params);

  const secrets = () => [sim.sim.tokenSecret, sim.sim.password, sim.sim.sshPassword];

  beforeAll(async () => {
    t = await startFreshApp({ PROXMOX_CALL_TIMEOUT_MS: String(TIMEOUT_MS) });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    sim = await SimulatorFixture.start();
    other = await SimulatorFixture.start({ nodes: ['pve1'] });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
    await other?.close();
  });
  afterEach(() => sim.control('DELETE', '/_sim/faults'));

  describe('CRUD', () => {
    it('creates a host: 201 with flags instead of secrets, defaults applied', async () => {
      const res = await t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send(hostBody({ name: 'Home Lab' }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'Home Lab',
        host: '127.0.0.1',
        port: sim.sim.port,
        tokenId: sim.sim.tokenId,
        hasTokenSecret: true,
        hasPassword: false,
        hasSshPassword: true,
        hasSshPrivateKey: false,
        tlsFingerprint: sim.sim.tlsFingerprint,
        tlsInsecure: false,
        sshInsecure: false,
        sshUser: 'root',
        storage: 'local-lvm',
        backupStorage: 'local',
        bridge: 'vmbr0',
        template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        portMin: 30000,
        portMax: 32767,
        isDefault: false,
      });
      for (const secret of secrets()) expect(JSON.stringify(res.body)).not.toContain(secret);
    });

    it('lists, reads, updates and deletes', async () => {
      const host = await create();
      const list = await t.http().get('/api/proxmox/hosts?perPage=100').set(bearer(admin));
      expect(list.status).toBe(200);
      expect((list.body.items as { id: string }[]).map((h) => h.id)).toContain(host.id);
      expect(
        (await t.http().get(`/api/proxmox/hosts/${host.id}`).set(bearer(admin))).body.name,
      ).toBe(host.name);
      const patched = await t
        .http()
        .patch(`/api/proxmox/hosts/${host.id}`)
        .set(bearer(admin))
        .send({ bridge: 'vmbr1', storage: 'fast-zfs' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        bridge: 'vmbr1',
        storage: 'fast-zfs',
        hasTokenSecret: true,
      });
      expect(
        (await t.http().delete(`/api/proxmox/hosts/${host.id}`).set(bearer(admin))).status,
      ).toBe(204);
      expectError(await t.http().get(`/api/proxmox/hosts/${host.id}`).set(bearer(admin)), 404);
      expectError(await t.http().delete(`/api/proxmox/hosts/${host.id}`).set(bearer(admin)), 404);
      expectError(
        await t
          .http()
          .patch(`/api/proxmox/hosts/${host.id}`)
          .set(bearer(admin))
          .send({ bridge: 'x' }),
        404,
      );
      expectError(await t.http().get('/api/proxmox/hosts/nope').set(bearer(admin)), 400, ['id']);
    });

    it('answers 401 anonymous and 403 to a plain user', async () => {
      const host = await create();
      expectError(await t.http().post('/api/proxmox/hosts').send(hostBody()), 401);
      expectError(
        await t.http().post('/api/proxmox/hosts').set(bearer(user)).send(hostBody()),
        403,
      );
      expectError(await t.http().get(`/api/proxmox/hosts/${host.id}`).set(bearer(user)), 403);
      expectError(await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(user)), 403);
      expectError(await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(user)), 403);
    });

    it('409 for a duplicate name, whatever its case', async () => {
      await create({ name: 'Cluster-A' });
      expectError(
        await t
          .http()
          .post('/api/proxmox/hosts')
          .set(bearer(admin))
          .send(hostBody({ name: 'cluster-a' })),
        409,
      );
    });

    it('keeps a single default host', async () => {
      const a = await create({ isDefault: true });
      const b = await create({ isDefault: true });
      expect(
        (await t.http().get(`/api/proxmox/hosts/${a.id}`).set(bearer(admin))).body.isDefault,
      ).toBe(false);
      expect(
        (await t.http().get(`/api/proxmox/hosts/${b.id}`).set(bearer(admin))).body.isDefault,
      ).toBe(true);
    });

    it.each([
      ['a scheme in host', { host: 'https://pve.lan' }, 'host'],
      ['a path in host', { host: 'pve.lan/api' }, 'host'],
      ['a port in host', { host: 'pve.lan:8006' }, 'host'],
      ['port 0', { port: 0 }, 'port'],
      ['port 70000', { port: 70000 }, 'port'],
      ['a malformed token id', { tokenId: 'root' }, 'tokenId'],
      ['a token secret that is no UUID', { tokenSecret: 'secret' }, 'tokenSecret'],
      ['a token id without its secret', { tokenSecret: undefined }, 'tokenSecret'],
      ['both credential kinds', { username: 'root@pam', password: 'pw' }, 'tokenId'],
      ['no credentials', { tokenId: undefined, tokenSecret: undefined }, 'tokenId'],
      ['no TLS pin and no opt-out', { tlsFingerprint: undefined }, 'tlsFingerprint'],
      ['an opt-out next to a pin', { tlsInsecure: true }, 'tlsInsecure'],
      ['a malformed fingerprint', { tlsFingerprint: 'AA:BB' }, 'tlsFingerprint'],
      [
        'a CA that is not PEM',
        { tlsFingerprint: undefined, caCert: 'not a certificate' },
        'caCert',
      ],
      [
        'no SSH host key and no opt-out',
        { sshHostKeyFingerprint: undefined },
        'sshHostKeyFingerprint',
      ],
      ['a malformed SSH host key', { sshHostKeyFingerprint: 'MD5:aa' }, 'sshHostKeyFingerprint'],
      ['an SSH key that is not a key', { sshPrivateKey: 'not a key' }, 'sshPrivateKey'],
      ['no SSH credential', { sshPassword: undefined }, 'sshPrivateKey'],
      ['vmidMin above vmidMax', { vmidMin: 5000, vmidMax: 4000 }, 'vmidMin'],
      ['a VMID below 100', { vmidMin: 99 }, 'vmidMin'],
      ['portMin above portMax', { portMin: 40000, portMax: 30000 }, 'portMin'],
      ['a privileged public port', { portMin: 80 }, 'portMin'],
      ['a bad template', { template: 'debian.tar.zst' }, 'template'],
      ['a bad bridge', { bridge: 'vmbr0; reboot' }, 'bridge'],
      ['a null name', { name: null }, 'name'],
      ['an unknown field', { verifySsl: false }, 'verifySsl'],
    ])('400 for %s', async (_name, overrides, field) => {
      const res = await t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send(hostBody(overrides));
      expectError(res, 400, [field]);
    });

    it('400 when the VMID range overlaps another host, also on PATCH', async () => {
      const a = await create({ vmidMin: 50_000, vmidMax: 50_999 });
      expectError(
        await t
          .http()
          .post('/api/proxmox/hosts')
          .set(bearer(admin))
          .send(hostBody({ vmidMin: 50_500, vmidMax: 51_500 })),
        400,
        ['vmidMin'],
      );
      const b = await create({ vmidMin: 52_000, vmidMax: 52_999 });
      expectError(
        await t
          .http()
          .patch(`/api/proxmox/hosts/${b.id}`)
          .set(bearer(admin))
          .send({ vmidMin: 50_999 }),
        400,
        ['vmidMin'],
      );
      // Moving a host within its own range is fine.
      expect(
        (
          await t
            .http()
            .patch(`/api/proxmox/hosts/${a.id}`)
            .set(bearer(admin))
            .send({ vmidMax: 50_500 })
        ).status,
      ).toBe(200);
    });

    it('two concurrent creations with overlapping ranges: exactly one succeeds', async () => {
      const results = await Promise.all(
        [0, 1].map(() =>
          t
            .http()
            .post('/api/proxmox/hosts')
            .set(bearer(admin))
            .send(hostBody({ vmidMin: 60_000, vmidMax: 60_999 })),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
    });

    it('explicit opt-outs are accepted and shown', async () => {
      const res = await t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send(
          hostBody({
            tlsFingerprint: undefined,
            tlsInsecure: true,
            sshHostKeyFingerprint: undefined,
            sshInsecure: true,
          }),
        );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        tlsInsecure: true,
        sshInsecure: true,
        tlsFingerprint: null,
        sshHostKeyFingerprint: null,
      });
    });
  });

  describe('secrets at rest', () => {
    it('the stored row holds no secret in clear, only ciphertexts', async () => {
      const host = await create({
        tokenId: undefined,
        tokenSecret: undefined,
        username: sim.sim.username,
        password: sim.sim.password,
      });
      const [row] = await sql('select * from proxmox_host where id = ?', [host.id]);
      const text = JSON.stringify(row);
      for (const secret of secrets()) expect(text).not.toContain(secret);
      expect(row.password).toMatch(/^pxe1\./);
      expect(row.ssh_password).toMatch(/^pxe1\./);
      expect(row.token_secret).toBeNull();
    });

    it('a tampered ciphertext fails the call with a clear reason, never the ciphertext', async () => {
      const host = await create();
      const [row] = await sql('select token_secret from proxmox_host where id = ?', [host.id]);
      const sealed = row.token_secret as string;
      const flipped = sealed.at(-3) === 'A' ? 'B' : 'A';
      const tampered = `${sealed.slice(0, -3)}${flipped}${sealed.slice(-2)}`;
      expect(tampered).not.toBe(sealed);
      await sql('update proxmox_host set token_secret = ? where id = ?', [tampered, host.id]);
      const res = await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        ok: false,
        reason: 'a stored credential of this host cannot be decrypted; set it again',
      });
      expect(JSON.stringify(res.body)).not.toContain(tampered);
    });
  });

  describe('POST /:id/test', () => {
    const expectFailure = async (overrides: Record<string, unknown>, reason: RegExp) => {
      const host = await create(overrides);
      const started = Date.now();
      const res = await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin));
      const elapsed = Date.now() - started;
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(false);
      expect(res.body.reason).toMatch(reason);
      // The contract: an answer within 10 s whatever the host does.
      expect(elapsed).toBeLessThan(10_000);
      for (const secret of secrets()) expect(JSON.stringify(res.body)).not.toContain(secret);
      expect(JSON.stringify(res.body)).not.toMatch(
        /127\.0\.0\.1|ECONN|api2|authentication failure|Error:/,
      );
      return res.body as { reason: string };
    };

    it('ok with the version, for token and for ticket auth, with a fingerprint or a CA', async () => {
      for (const overrides of [
        {},
        {
          tokenId: undefined,
          tokenSecret: undefined,
          username: sim.sim.username,
          password: sim.sim.password,
        },
        { tlsFingerprint: undefined, caCert: sim.sim.certificatePem },
      ]) {
        const host = await create(overrides);
        const res = await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin));
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
      }
    });

    it('a wrong fingerprint', () =>
      expectFailure(
        { tlsFingerprint: other.sim.tlsFingerprint },
        /TLS certificate does not match/,
      ));
    it('a wrong CA', () =>
      expectFailure(
        { tlsFingerprint: undefined, caCert: other.sim.certificatePem },
        /TLS certificate does not match/,
      ));
    it('a wrong token', () =>
      expectFailure(
        { tokenSecret: '00000000-0000-4000-8000-000000000000' },
        /rejected the credentials/,
      ));
    it('a wrong password', () =>
      expectFailure(
        {
          tokenId: undefined,
          tokenSecret: undefined,
          username: 'root@pam',
          password: 'wrong-password',
        },
        /rejected the credentials/,
      ));
    it('an unreachable port', () => expectFailure({ port: 1 }, /unreachable/));
    it('a call slower than its timeout', async () => {
      await sim.control('POST', '/_sim/faults', {
        // Far past the call's timeout and its retry: undici checks timeouts on a coarse
        // timer, so on a loaded machine an answer only 3 timeouts late could still arrive first.
        rules: [{ path: '/version$', delayMs: TIMEOUT_MS * 8 }],
      });
      await expectFailure({}, /did not answer in time/);
    });

    it('new credentials take effect on the next call', async () => {
      const host = await create({ tokenSecret: '00000000-0000-4000-8000-000000000000' });
      expect(
        (await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin))).body.ok,
      ).toBe(false);
      await t
        .http()
        .patch(`/api/proxmox/hosts/${host.id}`)
        .set(bearer(admin))
        .send({ tokenSecret: sim.sim.tokenSecret })
        .expect(200);
      expect(
        (await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin))).body.ok,
      ).toBe(true);
      // Switching to a password login replaces the token.
      const switched = await t
        .http()
        .patch(`/api/proxmox/hosts/${host.id}`)
        .set(bearer(admin))
        .send({ username: sim.sim.username, password: sim.sim.password });
      expect(switched.body).toMatchObject({
        tokenId: null,
        hasTokenSecret: false,
        username: sim.sim.username,
        hasPassword: true,
      });
      expect(
        (await t.http().post(`/api/proxmox/hosts/${host.id}/test`).set(bearer(admin))).body.ok,
      ).toBe(true);
    });
  });

  describe('sync and the node view', () => {
    it('records the nodes with their capacity, visible to any user', async () => {
      const host = await create();
      const res = await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ nodes: 2 });
      const nodes = await t.http().get(`/api/proxmox/nodes?hostId=${host.id}`).set(bearer(user));
      expect(nodes.status).toBe(200);
      expect(nodes.body.total).toBe(2);
      for (const node of nodes.body.items) {
        expect(Object.keys(node).sort()).toEqual([
          'cpus',
          'diskFree',
          'hostId',
          'hostName',
          'memoryFree',
          'memoryTotal',
          'node',
          'status',
        ]);
        expect(node).toMatchObject({ hostId: host.id, hostName: host.name, status: 'online' });
        expect(node.cpus).toBeGreaterThan(0);
        expect(node.memoryFree).toBeLessThanOrEqual(node.memoryTotal);
      }
      expect((nodes.body.items as { node: string }[]).map((n) => n.node)).toEqual(['pve1', 'pve2']);
    });

    it('marks nodes gone from the cluster offline, never deletes them', async () => {
      const host = await create();
      await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(admin)).expect(200);
      await t
        .http()
        .patch(`/api/proxmox/hosts/${host.id}`)
        .set(bearer(admin))
        .send({
          port: other.sim.port,
          tlsFingerprint: other.sim.tlsFingerprint,
          tokenSecret: other.sim.tokenSecret,
        })
        .expect(200);
      expect(
        (await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(admin))).body,
      ).toEqual({ nodes: 1 });
      const nodes = await t.http().get(`/api/proxmox/nodes?hostId=${host.id}`).set(bearer(admin));
      expect(
        (nodes.body.items as { node: string; status: string }[]).map(
          (n) => `${n.node}:${n.status}`,
        ),
      ).toEqual(['pve1:online', 'pve2:offline']);
    });

    it('a failing cluster answers 502 with our wording, and keeps the cache', async () => {
      const host = await create();
      await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(admin)).expect(200);
      const cached = async (): Promise<{ total: number }> =>
        (await t.http().get(`/api/proxmox/nodes?hostId=${host.id}`).set(bearer(user)).expect(200))
          .body as { total: number };
      const before = await cached();
      expect(before.total).toBe(2);
      await sim.control('POST', '/_sim/faults', {
        rules: [{ path: '/nodes$', status: 500, message: 'internal pveproxy detail' }],
      });
      const res = await t.http().post(`/api/proxmox/hosts/${host.id}/sync`).set(bearer(admin));
      expect(expectError(res, 502).message).toBe('Sync failed: Proxmox reported an error');
      expect(JSON.stringify(res.body)).not.toContain('pveproxy');
      const logged = t.logs.lines.filter((l) => l.includes('Proxmox call failed'));
      expect(logged.join('\n')).toContain('internal pveproxy detail');
      // The nodes recorded by the last good sync are still served, unchanged.
      expect(await cached()).toEqual(before);
    });

    it('validates the node query and paginates', async () => {
      expectError(await t.http().get('/api/proxmox/nodes?hostId=abc').set(bearer(user)), 400, [
        'hostId',
      ]);
      expectError(await t.http().get('/api/proxmox/nodes?perPage=0').set(bearer(user)), 400);
      expectError(await t.http().get('/api/proxmox/nodes'), 401);
      const page = await t.http().get('/api/proxmox/nodes?perPage=1&page=2').set(bearer(user));
      expect(page.body).toMatchObject({ page: 2, perPage: 1 });
      expect(page.body.items).toHaveLength(1);
    });
  });

  describe('SSH to the nodes of a host', () => {
    const runOn = async (hostId: string, node?: string) => {
      const host = await t.app.get(EntityManager).fork().findOneOrFail(ProxmoxHost, { id: hostId });
      const target = t.app.get(HostsService).shellTargetFor(host, node);
      return t.app
        .get(NodeShell)
        .run(target, { argv: ['printf', '%s|', "it's", '$(id)'], timeoutMs: 5000 });
    };

    it('reaches the entry node with the pinned host key, and another node by a hop', async () => {
      const host = await create();
      for (const node of [undefined, 'pve2']) {
        const result = await runOn(host.id, node);
        expect(result).toMatchObject({ exitCode: 0, stdout: "it's|$(id)|" });
      }
    });

    it('refuses a node whose host key does not match the pin', async () => {
      const host = await create({ sshHostKeyFingerprint: other.sim.sshHostKeyFingerprint });
      const err = await runOn(host.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeShellError);
      expect((err as NodeShellError).kind).toBe(NodeShellErrorKind.HostKeyMismatch);
      expect(String((err as Error).message)).not.toContain(sim.sim.sshPassword);
    });
  });

  it('never logs a secret', () => {
    for (const secret of secrets()) expect(t.logs.text).not.toContain(secret);
  });
});
