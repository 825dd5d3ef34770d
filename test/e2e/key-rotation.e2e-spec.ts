import { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { keyIdOf } from '../../src/crypto/keyring';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { spawnEntry } from '../support/spawn-app';
import { simulatorHostBody } from '../support/hosts';
import { resetState, startApp, testEnvironment } from '../support/test-app';
import { bearer, loginAdmin } from '../support/users';

describe('encryption key rotation', () => {
  let sim: SimulatorFixture;
  beforeAll(async () => {
    sim = await SimulatorFixture.start();
  });
  afterAll(() => sim?.close());

  it('re-encrypts every secret under the new key; the old key is no longer needed', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const env = testEnvironment({ PROXIMITY_ENCRYPTION_KEY: oldKey }, 'rotation');
    await resetState(env, 'rotation');

    const before = await startApp(env);
    const admin = await loginAdmin(before);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await before
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send(simulatorHostBody(sim.sim, `rotate-${i}`, 1000 + i * 100, 100));
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    await before.close();

    const rotation = spawnEntry(
      'src/cli.ts',
      {
        ...env,
        PROXIMITY_ENCRYPTION_KEY: newKey,
        PROXIMITY_ENCRYPTION_KEYS_OLD: oldKey,
      },
      ['keys:rotate'],
    );
    expect(await rotation.exited).toBe(0);
    expect(rotation.stdout()).toContain('done: 5 rows');

    // A second run finds nothing left to do.
    const again = spawnEntry(
      'src/cli.ts',
      { ...env, PROXIMITY_ENCRYPTION_KEY: newKey, PROXIMITY_ENCRYPTION_KEYS_OLD: oldKey },
      ['keys:rotate'],
    );
    expect(await again.exited).toBe(0);
    expect(again.stdout()).toContain('done: 0 rows');

    const after = await startApp({ ...env, PROXIMITY_ENCRYPTION_KEY: newKey });
    try {
      const rows = await after.app
        .get(EntityManager)
        .getConnection()
        .execute<{ token_secret: string; ssh_password: string }[]>(
          'select token_secret, ssh_password from proxmox_host',
        );
      const newId = keyIdOf(Buffer.from(newKey, 'base64'));
      for (const row of rows) {
        expect(row.token_secret.startsWith(`pxe1.${newId}.`)).toBe(true);
        expect(row.ssh_password.startsWith(`pxe1.${newId}.`)).toBe(true);
      }
      const session = await loginAdmin(after);
      for (const id of ids) {
        const res = await after.http().post(`/api/proxmox/hosts/${id}/test`).set(bearer(session));
        expect(res.body).toMatchObject({ ok: true });
      }
    } finally {
      await after.close();
    }

    // With only the old key, the rotated secrets no longer open: refused at start, not later.
    await expect(startApp({ ...env, PROXIMITY_ENCRYPTION_KEY: oldKey })).rejects.toThrow(
      /PROXIMITY_ENCRYPTION_KEYS_OLD/,
    );
  });
});
