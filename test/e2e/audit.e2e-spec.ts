import { expectError } from '../support/expectations';
import { ADMIN_USERNAME, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface Entry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  outcome: string;
}

describe('audit log', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    // Each setup step is checked: a test below must not pass on entries that were never made.
    await t
      .http()
      .post('/api/auth/login')
      .send({ username: ADMIN_USERNAME, password: 'a-wrong-password' })
      .expect(401);
    const token = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(user))
      .send({ name: 'audit' })
      .expect(201);
    await t.http().delete(`/api/auth/tokens/${token.body.id}`).set(bearer(user)).expect(204);
    await t
      .http()
      .patch(`/api/users/${user.userId}`)
      .set(bearer(admin))
      .send({ role: 'user' })
      .expect(200);
  });
  afterAll(() => t?.close());

  const entries = async (query = ''): Promise<Entry[]> => {
    const res = await t.http().get(`/api/audit?perPage=100${query}`).set(bearer(admin));
    expect(res.status).toBe(200);
    return res.body.items as Entry[];
  };

  it('records logins, failed logins, user and token changes, newest first', async () => {
    const items = await entries();
    const actions = items.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.login:success',
        'auth.login:failure',
        'user.create:success',
        'user.update:success',
        'token.create:success',
        'token.delete:success',
      ]),
    );
    const times = items.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const failure = items.find((e) => e.action === 'auth.login' && e.outcome === 'failure');
    expect(failure).toMatchObject({
      actorId: null,
      resourceType: 'user',
      resourceId: admin.userId,
      ip: expect.any(String),
    });
    expect(Object.keys(items[0]).sort()).toEqual([
      'action',
      'actorId',
      'at',
      'id',
      'ip',
      'outcome',
      'resourceId',
      'resourceType',
    ]);
  });

  it('filters by actor and by action, and paginates', async () => {
    const byUser = await entries(`&actorId=${user.userId}`);
    expect(byUser.length).toBeGreaterThan(0);
    expect(byUser.every((e) => e.actorId === user.userId)).toBe(true);
    const creates = await entries('&action=user.create');
    expect(creates.every((e) => e.action === 'user.create')).toBe(true);
    expect(creates.map((e) => e.resourceId)).toContain(user.userId);
    const page = await t.http().get('/api/audit?page=2&perPage=2').set(bearer(admin));
    expect(page.body).toMatchObject({ page: 2, perPage: 2 });
    expect(page.body.items).toHaveLength(2);
    expect(page.body.total).toBeGreaterThan(4);
  });

  it('answers 400 for bad filters, 403 for a user and 401 anonymous', async () => {
    for (const query of [
      'actorId=42',
      'action=DROP TABLE',
      'page=0',
      'perPage=101',
      'limit=5',
      'page=x',
    ]) {
      expectError(await t.http().get(`/api/audit?${query}`).set(bearer(admin)), 400);
    }
    expectError(await t.http().get('/api/audit').set(bearer(user)), 403);
    expectError(await t.http().get('/api/audit'), 401);
  });
});
