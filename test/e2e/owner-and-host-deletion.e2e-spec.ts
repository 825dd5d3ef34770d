import { allocate, allocationRequest, createHost } from '../support/applications';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/** What applications hold on to: their owner and their host cannot be deleted under them. */
describe('deleting what applications reference', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
  });
  afterAll(() => t?.close());

  const del = (path: string) => t.http().delete(path).set(bearer(admin));

  it('a user who owns applications: 409, and the user is kept', async () => {
    const owner = await createUser(t, admin);
    const hostId = await createHost(t, admin, 'owned', { vmidMin: 50000, vmidMax: 50099 });
    await allocate(t, allocationRequest(owner, hostId, 'keeps-owner'));
    const res = await del(`/api/users/${owner.userId}`);
    expect(expectError(res, 409).message).toBe('the user owns applications; delete them first');
    expect((await t.http().get(`/api/users/${owner.userId}`).set(bearer(admin))).status).toBe(200);
  });

  it('a host with applications: 409, and the host is kept', async () => {
    const owner = await createUser(t, admin);
    const hostId = await createHost(t, admin, 'busy', { vmidMin: 51000, vmidMax: 51099 });
    await allocate(t, allocationRequest(owner, hostId, 'keeps-host'));
    const res = await del(`/api/proxmox/hosts/${hostId}`);
    expect(expectError(res, 409).message).toBe('applications live on this host; delete them first');
    expect((await t.http().get(`/api/proxmox/hosts/${hostId}`).set(bearer(admin))).status).toBe(
      200,
    );
  });

  it('without applications both deletes answer 204', async () => {
    const user = await createUser(t, admin);
    const hostId = await createHost(t, admin, 'idle', { vmidMin: 52000, vmidMax: 52099 });
    expect((await del(`/api/users/${user.userId}`)).status).toBe(204);
    expect((await del(`/api/proxmox/hosts/${hostId}`)).status).toBe(204);
  });
});
