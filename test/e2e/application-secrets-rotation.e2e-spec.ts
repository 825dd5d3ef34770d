import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { Keyring, keyIdOf } from '../../src/crypto/keyring';
import { rotateSecrets } from '../../src/crypto/key-rotation';
import { allocate, allocationRequest, createHost } from '../support/applications';
import { resetState, startApp, testEnvironment } from '../support/test-app';
import { bearer, createUser, loginAdmin, login } from '../support/users';

/** The application's sealed columns are found by the rotation like every other secret column. */
describe('key rotation of application secrets', () => {
  it('re-seals the root password and the secret environment under the new key', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const env = testEnvironment({ PROXIMITY_ENCRYPTION_KEY: oldKey.toString('base64') });
    await resetState(env);
    const before = await startApp(env);
    let ownerName: string;
    let ownerPassword: string;
    let applicationId: string;
    try {
      const admin = await loginAdmin(before);
      const owner = await createUser(before, admin);
      ownerName = owner.username;
      ownerPassword = owner.password;
      const hostId = await createHost(before, admin, 'rotation', {
        vmidMin: 60000,
        vmidMax: 60099,
      });
      applicationId = (await allocate(before, allocationRequest(owner, hostId, 'sealed')))
        .application.id;
      const rotated = await rotateSecrets(before.app.get(MikroORM), new Keyring(newKey, [oldKey]));
      // Rows: the host's and the application's (its two sealed columns in one update).
      expect(rotated).toBe(2);
    } finally {
      await before.close();
    }

    const after = await startApp({ ...env, PROXIMITY_ENCRYPTION_KEY: newKey.toString('base64') });
    try {
      const [row] = await after.app
        .get(EntityManager)
        .fork()
        .execute<{ root_password: string; secret_environment: string }[]>(
          'select root_password, secret_environment from application where id = ?',
          [applicationId],
        );
      const newId = keyIdOf(newKey);
      expect(row.root_password.startsWith(`pxe1.${newId}.`)).toBe(true);
      expect(row.secret_environment.startsWith(`pxe1.${newId}.`)).toBe(true);
      const owner = await login(after, ownerName, ownerPassword);
      const res = await after
        .http()
        .get(`/api/apps/${applicationId}/credentials`)
        .set(bearer(owner));
      expect(res.body).toEqual({ rootPassword: 'root-password-of-sealed' });
    } finally {
      await after.close();
    }
  });
});
