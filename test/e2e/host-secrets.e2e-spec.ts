import { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { Keyring, keyIdOf } from '../../src/crypto/keyring';
import { HostsService } from '../../src/proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../src/proxmox/hosts/proxmox-host.entity';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { expectError } from '../support/expectations';
import { simulatorHostBody } from '../support/hosts';
import { TEST_REDIS_URL } from '../support/redis-keys';
import { SlowTcpProxy } from '../support/slow-tcp-proxy';
import { spawnEntry, waitFor } from '../support/spawn-app';
import {
  resetState,
  startApp,
  startFreshApp,
  testEnvironment,
  type TestApp,
} from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const UNDECRYPTABLE = 'a stored credential of this host cannot be decrypted; set it again';

/** A ciphertext whose authentication tag no longer matches. */
function damaged(sealed: string): string {
  const flipped = sealed.at(-3) === 'A' ? 'B' : 'A';
  return `${sealed.slice(0, -3)}${flipped}${sealed.slice(-2)}`;
}

/** Sealed with a key this application was never given. */
function sealedWithForeignKey(plaintext: string): { sealed: string; keyId: string; key: string } {
  const key = randomBytes(32);
  return {
    sealed: new Keyring(key).encrypt(plaintext),
    keyId: keyIdOf(key),
    key: key.toString('base64'),
  };
}

describe('a host whose stored secret does not decrypt', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;
  let sim: SimulatorFixture;
  let counter = 0;

  const sql = (query: string, params: unknown[] = []) =>
    t.app
      .get(EntityManager)
      .fork()
      .getConnection()
      .execute<Record<string, string>[]>(query, params);

  const createHost = async (): Promise<string> => {
    counter += 1;
    const res = await t
      .http()
      .post('/api/proxmox/hosts')
      .set(bearer(admin))
      .send(simulatorHostBody(sim.sim, `secret-${counter}`, 300_000 + counter * 1000));
    expect(res.status).toBe(201);
    const id = (res.body as { id: string }).id;
    const sync = await t.http().post(`/api/proxmox/hosts/${id}/sync`).set(bearer(admin));
    expect(sync.status).toBe(200);
    return id;
  };

  const storedSecret = async (id: string, column: string): Promise<string> => {
    const [row] = await sql(`select ${column} as value from proxmox_host where id = ?`, [id]);
    return row.value;
  };

  const store = (id: string, column: string, value: string) =>
    sql(`update proxmox_host set ${column} = ? where id = ?`, [value, id]);

  const host = (id: string, path = '') => `/api/proxmox/hosts/${id}${path}`;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    sim = await SimulatorFixture.start();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  describe.each([
    ['a damaged ciphertext', async (id: string) => damaged(await storedSecret(id, 'token_secret'))],
    [
      'a ciphertext sealed with an unknown key',
      () => Promise.resolve(sealedWithForeignKey(sim.sim.tokenSecret).sealed),
    ],
  ])('token secret: %s', (_label, breakIt) => {
    let id: string;
    let healthy: string;
    let broken: string;

    beforeAll(async () => {
      id = await createHost();
      healthy = await createHost();
      broken = await breakIt(id);
      await store(id, 'token_secret', broken);
    });

    it('every user still lists the nodes of every host', async () => {
      const res = await t.http().get('/api/proxmox/nodes?perPage=100').set(bearer(user));
      expect(res.status).toBe(200);
      const hostIds = new Set((res.body.items as { hostId: string }[]).map((n) => n.hostId));
      expect([...hostIds]).toEqual(expect.arrayContaining([id, healthy]));
    });

    it('an admin lists and reads the host, its flags intact', async () => {
      const list = await t.http().get('/api/proxmox/hosts?perPage=100').set(bearer(admin));
      expect(list.status).toBe(200);
      expect((list.body.items as { id: string }[]).map((h) => h.id)).toContain(id);
      const one = await t.http().get(host(id)).set(bearer(admin));
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id, hasTokenSecret: true, hasSshPassword: true });
    });

    it('the calls that need the credential answer a generic reason; the others still work', async () => {
      const test = await t.http().post(host(id, '/test')).set(bearer(admin));
      expect(test.status).toBe(200);
      expect(test.body).toMatchObject({ ok: false, reason: UNDECRYPTABLE });
      const sync = await t.http().post(host(id, '/sync')).set(bearer(admin));
      expect(expectError(sync, 409).message).toBe(UNDECRYPTABLE);
      const keyId = broken.split('.')[1];
      for (const body of [JSON.stringify(test.body), JSON.stringify(sync.body)]) {
        expect(body).not.toContain(broken);
        expect(body).not.toContain(keyId);
        expect(body).not.toMatch(/unknown key|integrity|pxe1/);
      }
      const other = await t.http().post(host(healthy, '/test')).set(bearer(admin));
      expect(other.body).toMatchObject({ ok: true });
    });

    it('the server log says which host and why, without the ciphertext', () => {
      const line = t.logs
        .entries()
        .find((e) => e.msg === 'a stored credential cannot be decrypted' && e.hostId === id);
      expect(line).toMatchObject({ field: 'tokenSecret', reason: expect.any(String) });
      expect(t.logs.text).not.toContain(broken);
    });

    it('PATCH of another field keeps working, and replacing the credential repairs the host', async () => {
      const other = await t.http().patch(host(id)).set(bearer(admin)).send({ bridge: 'vmbr1' });
      expect(other.status).toBe(200);
      expect(other.body).toMatchObject({ bridge: 'vmbr1', hasTokenSecret: true });
      expect((await t.http().post(host(id, '/test')).set(bearer(admin))).body.ok).toBe(false);

      const repaired = await t
        .http()
        .patch(host(id))
        .set(bearer(admin))
        .send({ tokenId: sim.sim.tokenId, tokenSecret: sim.sim.tokenSecret });
      expect(repaired.status).toBe(200);
      expect((await t.http().post(host(id, '/test')).set(bearer(admin))).body).toMatchObject({
        ok: true,
      });
      expect((await t.http().post(host(id, '/sync')).set(bearer(admin))).status).toBe(200);
    });

    it('an admin deletes such a host', async () => {
      const doomed = await createHost();
      await store(doomed, 'token_secret', await breakIt(doomed));
      expect((await t.http().delete(host(doomed)).set(bearer(admin))).status).toBe(204);
      expectError(await t.http().get(host(doomed)).set(bearer(admin)), 404);
    });
  });

  it('an SSH secret that does not decrypt fails only what needs SSH, with the same reason', async () => {
    const id = await createHost();
    await store(id, 'ssh_password', sealedWithForeignKey(sim.sim.sshPassword).sealed);
    const hosts = t.app.get(HostsService);
    const entity = await t.app.get(EntityManager).fork().findOneOrFail(ProxmoxHost, { id });
    expect(() => hosts.shellTargetFor(entity)).toThrow(UNDECRYPTABLE);
    expect((await t.http().post(host(id, '/sync')).set(bearer(admin))).status).toBe(200);
    expect((await t.http().get(host(id)).set(bearer(admin))).status).toBe(200);
    const patched = await t
      .http()
      .patch(host(id))
      .set(bearer(admin))
      .send({ sshPassword: sim.sim.sshPassword });
    expect(patched.status).toBe(200);
    const repaired = await t.app.get(EntityManager).fork().findOneOrFail(ProxmoxHost, { id });
    expect(hosts.shellTargetFor(repaired).auth).toEqual({ password: sim.sim.sshPassword });
  });

  it('a secret written in clear is refused by the column type, never stored', async () => {
    const id = await createHost();
    const em = t.app.get(EntityManager).fork();
    const entity = await em.findOneOrFail(ProxmoxHost, { id });
    Object.assign(entity, { tokenSecret: sim.sim.tokenSecret });
    await expect(em.flush()).rejects.toThrow('refusing to store an unsealed value as a secret');
    expect(await storedSecret(id, 'token_secret')).toMatch(/^pxe1\./);
  });
});

describe('start-up with stored secrets the configured keys cannot open', () => {
  const variant = 'keys';

  /** A database holding one host, its secrets sealed with `key`. */
  const databaseSealedWith = async (key: string): Promise<NodeJS.ProcessEnv> => {
    const env = testEnvironment({ PROXIMITY_ENCRYPTION_KEY: key }, variant);
    await resetState(env, variant);
    const app = await startApp(env);
    try {
      const admin = await loginAdmin(app);
      const res = await app.http().post('/api/proxmox/hosts').set(bearer(admin)).send({
        name: 'sealed',
        host: 'pve.lan',
        tokenId: 'root@pam!proximity',
        tokenSecret: '0b6c2e4e-5d38-4a52-9c0e-6f1d2b3a4c5d',
        tlsInsecure: true,
        sshPassword: 'ssh-password',
        sshInsecure: true,
      });
      expect(res.status).toBe(201);
    } finally {
      await app.close();
    }
    return env;
  };

  it('refuses to start with one line naming PROXIMITY_ENCRYPTION_KEYS_OLD, printing no key', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const env = await databaseSealedWith(oldKey);
    const newKey = randomBytes(32).toString('base64');
    const run = spawnEntry('src/main.ts', { ...env, PROXIMITY_ENCRYPTION_KEY: newKey });
    try {
      expect(await run.exited).toBe(1);
    } finally {
      run.child.kill('SIGKILL');
    }
    const lines = run
      .stderr()
      .split('\n')
      .filter((l) => l.includes('PROXIMITY_ENCRYPTION_KEYS_OLD'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(keyIdOf(Buffer.from(oldKey, 'base64')));
    for (const output of [run.stdout(), run.stderr()]) {
      expect(output).not.toContain(oldKey);
      expect(output).not.toContain(newKey);
      expect(output).not.toContain('pxe1.');
    }
  });

  it('a refused start in-process leaves no connection open and no rejection unhandled', async () => {
    const env = await databaseSealedWith(randomBytes(32).toString('base64'));
    // A slow link to Redis keeps each connection's first commands in flight
    // when the start is refused, where a fast one would hide the race.
    const redis = new URL(TEST_REDIS_URL);
    const slowRedis = await SlowTcpProxy.start(
      { host: redis.hostname, port: Number(redis.port || 6379) },
      50,
    );
    const refused = {
      ...env,
      PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      REDIS_URL: `redis://127.0.0.1:${slowRedis.port}`,
    };
    const sockets = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    const before = sockets();
    let left: number;
    try {
      // Queue workers that started before the refusal would leave Bull's
      // connections behind (and reject its commands in flight with nobody
      // listening): the refusal must come before any of them starts.
      for (let i = 0; i < 10; i += 1) {
        await expect(startApp(refused)).rejects.toThrow(/PROXIMITY_ENCRYPTION_KEYS_OLD/);
      }
      await waitFor(() => Promise.resolve(sockets() <= before), 5_000).catch(() => undefined);
      left = sockets();
    } finally {
      process.off('unhandledRejection', record);
      await slowRedis.close();
    }
    expect(unhandled.map(String)).toEqual([]);
    expect(left).toBeLessThanOrEqual(before);
  });

  it('starts once the old key is listed in PROXIMITY_ENCRYPTION_KEYS_OLD', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const env = await databaseSealedWith(oldKey);
    const app = await startApp({
      ...env,
      PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PROXIMITY_ENCRYPTION_KEYS_OLD: oldKey,
    });
    await app.close();
  });

  it('a damaged ciphertext under a known key does not stop the start', async () => {
    const key = randomBytes(32).toString('base64');
    const env = await databaseSealedWith(key);
    const probe = await startApp(env);
    try {
      const sql = probe.app.get(EntityManager).fork().getConnection();
      const [row] = await sql.execute<{ token_secret: string }[]>(
        'select token_secret from proxmox_host',
      );
      await sql.execute('update proxmox_host set token_secret = ?', [damaged(row.token_secret)]);
    } finally {
      await probe.close();
    }
    const app = await startApp(env);
    await app.close();
  });
});
