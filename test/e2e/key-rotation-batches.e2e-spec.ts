import { MikroORM } from '@mikro-orm/postgresql';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config';
import { rotateSecrets } from '../../src/crypto/key-rotation';
import { keyIdOf, Keyring } from '../../src/crypto/keyring';
import { buildOrmOptions } from '../../src/database/orm-options';
import { spawnEntry } from '../support/spawn-app';
import { resetState, startApp, testEnvironment } from '../support/test-app';
import { bearer, loginAdmin } from '../support/users';

const HOSTS = 250; // more than two of the CLI's 100-row batches

describe('key rotation over many rows', () => {
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const env = testEnvironment({ PROXIMITY_ENCRYPTION_KEY: oldKey }, 'rotbatch');
  const rotatingEnv = {
    ...env,
    PROXIMITY_ENCRYPTION_KEY: newKey,
    PROXIMITY_ENCRYPTION_KEYS_OLD: oldKey,
  };
  let orm: MikroORM;

  const keysInUse = async (): Promise<Record<string, number>> => {
    const rows = await orm.em.getConnection().execute<{ key_id: string; n: number }[]>(
      `select split_part(s, '.', 2) as key_id, count(*)::int as n
         from proxmox_host, unnest(array[token_secret, ssh_password]) as s
        group by 1 order by 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  };

  beforeAll(async () => {
    await resetState(env, 'rotbatch');
    const app = await startApp(env);
    try {
      const admin = await loginAdmin(app);
      for (let start = 0; start < HOSTS; start += 25) {
        const batch = Array.from({ length: Math.min(25, HOSTS - start) }, (_, k) => start + k);
        const statuses = await Promise.all(
          batch.map(async (i) => {
            const res = await app
              .http()
              .post('/api/proxmox/hosts')
              .set(bearer(admin))
              .send({
                name: `rotate-${i}`,
                host: '127.0.0.1',
                tokenId: 'root@pam!proximity',
                tokenSecret: randomUUID(),
                tlsFingerprint: Array.from({ length: 32 }, () => 'AB').join(':'),
                sshPassword: `ssh-${i}`,
                sshHostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
                vmidMin: 100_000 + i * 10,
                vmidMax: 100_009 + i * 10,
              });
            return res.status;
          }),
        );
        expect(statuses).toEqual(batch.map(() => 201));
      }
    } finally {
      await app.close();
    }
    const config = loadConfig(rotatingEnv);
    orm = await MikroORM.init(buildOrmOptions(config.database));
  });
  afterAll(() => orm?.close(true));

  it('a run interrupted after its first batch resumes where it stopped and finishes every batch', async () => {
    const oldId = keyIdOf(Buffer.from(oldKey, 'base64'));
    const newId = keyIdOf(Buffer.from(newKey, 'base64'));
    expect(await keysInUse()).toEqual({ [oldId]: HOSTS * 2 });

    // A crash right after the first batch committed.
    const { keyring } = loadConfig(rotatingEnv);
    await expect(
      rotateSecrets(orm, keyring, 100, () => {
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(await keysInUse()).toEqual({ [oldId]: (HOSTS - 100) * 2, [newId]: 100 * 2 });

    const resumed = spawnEntry('src/cli.ts', rotatingEnv, ['keys:rotate']);
    expect(await resumed.exited).toBe(0);
    expect(resumed.stdout()).toContain(`done: ${HOSTS - 100} rows`);
    expect(resumed.stdout().match(/proxmox_host: re-encrypted \d+ rows/g)).toEqual([
      'proxmox_host: re-encrypted 100 rows',
      'proxmox_host: re-encrypted 50 rows',
    ]);
    expect(await keysInUse()).toEqual({ [newId]: HOSTS * 2 });

    // Every secret opens with the new key alone, and is still the value written.
    const newOnly = new Keyring(Buffer.from(newKey, 'base64'));
    const rows = await orm.em
      .getConnection()
      .execute<{ name: string; ssh_password: string }[]>(
        'select name, ssh_password from proxmox_host',
      );
    expect(rows).toHaveLength(HOSTS);
    for (const row of rows) {
      expect(newOnly.decrypt(row.ssh_password)).toBe(row.name.replace('rotate-', 'ssh-'));
    }
  });
});
