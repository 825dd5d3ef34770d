import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, login, loginAdmin, type Session } from '../support/users';

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

describe('users (admin)', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
  });
  afterAll(() => t?.close());

  it('every route: 401 without a token, 403 for a plain user', async () => {
    const routes: [string, string][] = [
      ['get', '/api/users'],
      ['post', '/api/users'],
      ['get', `/api/users/${admin.userId}`],
      ['patch', `/api/users/${admin.userId}`],
      ['delete', `/api/users/${admin.userId}`],
      ['get', `/api/users/${admin.userId}/tokens`],
      ['delete', `/api/users/${admin.userId}/tokens/${MISSING_ID}`],
    ];
    for (const [method, path] of routes) {
      const anon = await t.http()[method as 'get'](path).send({});
      expectError(anon, 401);
      const plain = await t.http()[method as 'get'](path).set(bearer(user)).send({});
      expectError(plain, 403);
    }
  });

  it('creates a user: 201 without any secret', async () => {
    const res = await t
      .http()
      .post('/api/users')
      .set(bearer(admin))
      .send({ username: 'carol', password: 'carol-password-1', role: 'user' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      username: 'carol',
      role: 'user',
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('carol-password-1');
    await login(t, 'carol', 'carol-password-1');
  });

  it('409 for a taken username, whatever its case', async () => {
    const body = { username: 'Dave', password: 'dave-password-12', role: 'user' };
    expect((await t.http().post('/api/users').set(bearer(admin)).send(body)).status).toBe(201);
    const dup = await t
      .http()
      .post('/api/users')
      .set(bearer(admin))
      .send({ ...body, username: 'dave' });
    expect(expectError(dup, 409).message).toContain('dave');
  });

  it('two concurrent creations of one username: one 201, one 409', async () => {
    const body = { username: 'racer', password: 'racer-password-1', role: 'user' };
    const results = await Promise.all([
      t.http().post('/api/users').set(bearer(admin)).send(body),
      t.http().post('/api/users').set(bearer(admin)).send(body),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('validates the body of POST', async () => {
    const cases: [object, string[]][] = [
      [{}, ['username', 'password', 'role']],
      [{ username: 'ab', password: 'long-enough-pass', role: 'user' }, ['username']],
      [{ username: 'bad name', password: 'long-enough-pass', role: 'user' }, ['username']],
      [{ username: 'okname', password: 'short', role: 'user' }, ['password']],
      [{ username: 'okname', password: 'long-enough-pass', role: 'root' }, ['role']],
      [
        { username: 'okname', password: 'long-enough-pass', role: 'user', isAdmin: true },
        ['isAdmin'],
      ],
      [{ username: 'okname', password: 'x'.repeat(257), role: 'user' }, ['password']],
    ];
    for (const [body, fields] of cases) {
      expectError(await t.http().post('/api/users').set(bearer(admin)).send(body), 400, fields);
    }
  });

  it('lists users with bounded pagination', async () => {
    const res = await t.http().get('/api/users?page=1&perPage=2').set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.page).toBe(1);
    expect(res.body.perPage).toBe(2);
    expect(res.body.total).toBeGreaterThanOrEqual(3);
    const defaults = await t.http().get('/api/users').set(bearer(admin));
    expect(defaults.body).toMatchObject({ page: 1, perPage: 20 });
    for (const query of [
      'page=0',
      'page=10001',
      'perPage=0',
      'perPage=101',
      'page=abc',
      'page=1.5',
      'sort=name',
      'page=1&page=2',
    ]) {
      expectError(await t.http().get(`/api/users?${query}`).set(bearer(admin)), 400);
    }
    const beyond = await t.http().get('/api/users?page=500').set(bearer(admin));
    expect(beyond.status).toBe(200);
    expect(beyond.body.items).toEqual([]);
  });

  it('reads one user; 404 for a missing id, 400 for a malformed one', async () => {
    const res = await t.http().get(`/api/users/${user.userId}`).set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(user.username);
    expectError(await t.http().get(`/api/users/${MISSING_ID}`).set(bearer(admin)), 404);
    expectError(await t.http().get('/api/users/not-a-uuid').set(bearer(admin)), 400, ['id']);
  });

  it('PATCH changes role and resets the password (ending every session of the user)', async () => {
    const target = await createUser(t, admin);
    const res = await t
      .http()
      .patch(`/api/users/${target.userId}`)
      .set(bearer(admin))
      .send({ role: 'admin', password: 'reset-by-admin-1' });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('admin');
    expectError(
      await t.http().post('/api/auth/refresh').send({ refreshToken: target.refreshToken }),
      401,
    );
    expectError(await t.http().get('/api/auth/me').set(bearer(target)), 401);
    const fresh = await login(t, target.username, 'reset-by-admin-1');
    expect((await t.http().get('/api/auth/me').set(bearer(fresh))).status).toBe(200);
    expectError(
      await t
        .http()
        .patch(`/api/users/${target.userId}`)
        .set(bearer(admin))
        .send({ role: null, disabled: null }),
      400,
      ['role', 'disabled'],
    );
    expectError(
      await t.http().patch(`/api/users/${MISSING_ID}`).set(bearer(admin)).send({ disabled: true }),
      404,
    );
    expectError(
      await t
        .http()
        .patch(`/api/users/${target.userId}`)
        .set(bearer(admin))
        .send({ disabled: 'yes', role: 'boss', password: 'x' }),
      400,
      ['disabled', 'role', 'password'],
    );
  });

  describe('the last active admin', () => {
    let t2: TestApp;
    let root: Session;

    beforeEach(async () => {
      t2 = await startFreshApp({}, 'admins');
      root = await loginAdmin(t2);
    });
    afterEach(() => t2?.close());

    it('cannot be demoted, disabled or deleted (409)', async () => {
      const http = t2.http;
      expectError(
        await http().patch(`/api/users/${root.userId}`).set(bearer(root)).send({ role: 'user' }),
        409,
      );
      expectError(
        await http().patch(`/api/users/${root.userId}`).set(bearer(root)).send({ disabled: true }),
        409,
      );
      expectError(await http().delete(`/api/users/${root.userId}`).set(bearer(root)), 409);
      expect((await http().get('/api/auth/me').set(bearer(root))).body.role).toBe('admin');
      // A disabled admin does not count as active.
      const other = await createUser(t2, root, 'admin');
      await http()
        .patch(`/api/users/${other.userId}`)
        .set(bearer(root))
        .send({ disabled: true })
        .expect(200);
      expectError(
        await http().patch(`/api/users/${root.userId}`).set(bearer(root)).send({ role: 'user' }),
        409,
      );
    });

    it('can be demoted once another active admin exists', async () => {
      const other = await createUser(t2, root, 'admin');
      const res = await t2
        .http()
        .patch(`/api/users/${root.userId}`)
        .set(bearer(other))
        .send({ role: 'user' });
      expect(res.status).toBe(200);
      expect(res.body.role).toBe('user');
    });

    it('two admins demoting each other at once: exactly one succeeds', async () => {
      const other = await createUser(t2, root, 'admin');
      const results = await Promise.all([
        t2.http().patch(`/api/users/${root.userId}`).set(bearer(other)).send({ role: 'user' }),
        t2.http().patch(`/api/users/${other.userId}`).set(bearer(root)).send({ role: 'user' }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      // The loser either lost its admin role first (403) or found itself last (409).
      expect(statuses[0]).toBe(200);
      expect([403, 409]).toContain(statuses[1]);
      const list = await t2
        .http()
        .get('/api/users')
        .set(bearer(results[0].status === 200 ? other : root));
      const admins = (list.body.items as { role: string }[]).filter((u) => u.role === 'admin');
      expect(admins).toHaveLength(1);
    });
  });

  it('DELETE removes the user and its credentials', async () => {
    const target = await createUser(t, admin);
    const token = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(target))
      .send({ name: 'x' })
      .expect(201);
    expect(
      (
        await t
          .http()
          .get('/api/auth/me')
          .set(bearer(token.body.token as string))
      ).status,
    ).toBe(200);
    expect((await t.http().delete(`/api/users/${target.userId}`).set(bearer(admin))).status).toBe(
      204,
    );
    expectError(await t.http().get(`/api/users/${target.userId}`).set(bearer(admin)), 404);
    expectError(await t.http().get('/api/auth/me').set(bearer(target)), 401);
    expectError(
      await t
        .http()
        .get('/api/auth/me')
        .set(bearer(token.body.token as string)),
      401,
    );
    expectError(await t.http().delete(`/api/users/${target.userId}`).set(bearer(admin)), 404);
  });
});
