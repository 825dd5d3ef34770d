import { randomUUID } from 'node:crypto';
import {
  INVALID_HOST_ADDRESSES,
  VALID_HOST_ADDRESSES,
} from '../../src/common/net/testing/host-address-cases';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

const BAD = INVALID_HOST_ADDRESSES;
const GOOD = VALID_HOST_ADDRESSES;

describe('host and sshHost accept exactly a DNS name, an IPv4 or an IPv6 address', () => {
  let t: TestApp;
  let admin: Session;
  let block = 0;

  const hostBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    block += 1;
    return {
      name: `addr-${block}`,
      host: 'pve.lan',
      tokenId: 'root@pam!proximity',
      tokenSecret: randomUUID(),
      tlsInsecure: true,
      sshPassword: 'ssh-password',
      sshInsecure: true,
      vmidMin: 200_000 + block * 100,
      vmidMax: 200_000 + block * 100 + 99,
      ...overrides,
    };
  };

  const post = (body: Record<string, unknown>) =>
    t.http().post('/api/proxmox/hosts').set(bearer(admin)).send(body);

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.each(['host', 'sshHost'])('%s', (field) => {
    let existingId: string;
    beforeAll(async () => {
      const res = await post(hostBody());
      expect(res.status).toBe(201);
      existingId = (res.body as { id: string }).id;
    });

    it.each(BAD)('POST refuses %j with 400 on the field', async (value) => {
      expectError(await post(hostBody({ [field]: value })), 400, [field]);
    });

    it.each(BAD)('PATCH refuses %j with 400 and keeps the stored value', async (value) => {
      const res = await t
        .http()
        .patch(`/api/proxmox/hosts/${existingId}`)
        .set(bearer(admin))
        .send({ [field]: value });
      expectError(res, 400, [field]);
      const stored = await t.http().get(`/api/proxmox/hosts/${existingId}`).set(bearer(admin));
      expect(stored.status).toBe(200);
      expect((stored.body as Record<string, unknown>)[field]).not.toBe(value);
    });

    it.each(GOOD)('POST and PATCH accept %s', async (value) => {
      const created = await post(hostBody({ [field]: value }));
      expect(created.status).toBe(201);
      expect((created.body as Record<string, unknown>)[field]).toBe(value);
      const patched = await t
        .http()
        .patch(`/api/proxmox/hosts/${existingId}`)
        .set(bearer(admin))
        .send({ [field]: value });
      expect(patched.status).toBe(200);
      expect((patched.body as Record<string, unknown>)[field]).toBe(value);
    });
  });
});
