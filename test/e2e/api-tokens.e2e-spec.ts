import { EntityManager } from '@mikro-orm/postgresql';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

describe('personal API tokens', () => {
  let t: TestApp;
  let admin: Session;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    alice = await createUser(t, admin);
    bob = await createUser(t, admin);
  });
  afterAll(() => t?.close());

  const sql = (query: string, params: unknown[] = []) =>
    t.app.get(EntityManager).getConnection().execute(query, params);

  it('POST shows the token once, stores only its digest, and the token authenticates', async () => {
    const res = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(alice))
      .send({ name: 'ci', expiresInDays: 7 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'ci',
      scope: 'write',
      token: expect.stringMatching(/^prx_/),
      expiresAt: expect.any(String),
    });
    const days = (new Date(res.body.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    const rows = await sql('select * from api_token where id = ?', [res.body.id]);
    expect(JSON.stringify(rows)).not.toContain(res.body.token);
    const me = await t.http().get('/api/auth/me').set(bearer(res.body.token));
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(alice.userId);
  });

  it('GET lists only the caller’s tokens, never their secrets', async () => {
    await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(bob))
      .send({ name: 'bob-token' })
      .expect(201);
    const res = await t.http().get('/api/auth/tokens').set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const item of res.body.items) {
      expect(Object.keys(item).sort()).toEqual([
        'createdAt',
        'expiresAt',
        'id',
        'lastUsedAt',
        'name',
        'scope',
      ]);
      expect(item.name).not.toBe('bob-token');
    }
    expect(res.body).toMatchObject({ page: 1, perPage: 20 });
    expectError(await t.http().get('/api/auth/tokens?perPage=500').set(bearer(alice)), 400);
  });

  it('defaults to 90 days; validates name and expiresInDays', async () => {
    const res = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(alice))
      .send({ name: 'default' })
      .expect(201);
    const days = (new Date(res.body.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
    const cases: [object, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(81) }, 'name'],
      [{ name: 'ok', expiresInDays: 0 }, 'expiresInDays'],
      [{ name: 'ok', expiresInDays: 366 }, 'expiresInDays'],
      [{ name: 'ok', expiresInDays: 1.5 }, 'expiresInDays'],
      [{ name: 'ok', expiresInDays: '7' }, 'expiresInDays'],
      [{ name: 'ok', scope: 'all' }, 'scope'],
    ];
    for (const [body, field] of cases) {
      expectError(await t.http().post('/api/auth/tokens').set(bearer(alice)).send(body), 400, [
        field,
      ]);
    }
  });

  it('DELETE revokes; another user’s token id answers 404 and keeps working', async () => {
    const mine = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(alice))
      .send({ name: 'temp' })
      .expect(201);
    const theirs = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(bob))
      .send({ name: 'keep' })
      .expect(201);
    expectError(
      await t.http().delete(`/api/auth/tokens/${theirs.body.id}`).set(bearer(alice)),
      404,
    );
    expect((await t.http().get('/api/auth/me').set(bearer(theirs.body.token))).status).toBe(200);
    expect(
      (await t.http().delete(`/api/auth/tokens/${mine.body.id}`).set(bearer(alice))).status,
    ).toBe(204);
    expectError(await t.http().get('/api/auth/me').set(bearer(mine.body.token)), 401);
    expectError(await t.http().delete(`/api/auth/tokens/${mine.body.id}`).set(bearer(alice)), 404);
    expectError(await t.http().delete('/api/auth/tokens/123').set(bearer(alice)), 400, ['id']);
  });

  it('an expired token is refused', async () => {
    const res = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(alice))
      .send({ name: 'short' })
      .expect(201);
    expect((await t.http().get('/api/auth/me').set(bearer(res.body.token))).status).toBe(200);
    await sql(`update api_token set expires_at = now() - interval '1 second' where id = ?`, [
      res.body.id,
    ]);
    expectError(await t.http().get('/api/auth/me').set(bearer(res.body.token)), 401);
  });

  it('records when a token was last used', async () => {
    const before = Date.now();
    const res = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(bob))
      .send({ name: 'used' })
      .expect(201);
    const listed = async () => {
      const list = await t.http().get('/api/auth/tokens').set(bearer(bob)).expect(200);
      return (list.body.items as { id: string; lastUsedAt: string | null }[]).find(
        (i) => i.id === res.body.id,
      );
    };
    expect(await listed()).toEqual(expect.objectContaining({ lastUsedAt: null }));
    await t.http().get('/api/auth/me').set(bearer(res.body.token)).expect(200);
    const item = await listed();
    // Fails when the token is missing from the list, not only when the field is null.
    expect(item).toEqual(expect.objectContaining({ lastUsedAt: expect.any(String) }));
    expect(new Date(item?.lastUsedAt ?? 0).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('refuses more than 50 live tokens per user with 409, even to 80 parallel creations', async () => {
    const carol = await createUser(t, admin);
    const results = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        t
          .http()
          .post('/api/auth/tokens')
          .set(bearer(carol))
          .send({ name: `t${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    for (const res of results.filter((r) => r.status !== 201)) expectError(res, 409);
    expectError(
      await t.http().post('/api/auth/tokens').set(bearer(carol)).send({ name: 'one-too-many' }),
      409,
    );
    const list = await t.http().get('/api/auth/tokens').set(bearer(carol)).expect(200);
    expect(list.body.total).toBe(50);
    // An expired token does not count: its place is free again.
    await sql(
      `update api_token set expires_at = now() - interval '1 second'
       where id = (select id from api_token where owner_id = ? limit 1)`,
      [carol.userId],
    );
    await t.http().post('/api/auth/tokens').set(bearer(carol)).send({ name: 'again' }).expect(201);
  });

  const createToken = async (
    owner: Session,
    body: object,
  ): Promise<{ id: string; token: string }> => {
    const res = await t.http().post('/api/auth/tokens').set(bearer(owner)).send(body).expect(201);
    return res.body as { id: string; token: string };
  };

  describe('scopes', () => {
    it('a read token is shown and listed with its scope', async () => {
      const created = await t
        .http()
        .post('/api/auth/tokens')
        .set(bearer(alice))
        .send({ name: 'reader', scope: 'read' })
        .expect(201);
      expect(created.body.scope).toBe('read');
      const list = await t.http().get('/api/auth/tokens?perPage=100').set(bearer(alice));
      const item = (list.body.items as { id: string; scope: string }[]).find(
        (i) => i.id === created.body.id,
      );
      expect(item).toEqual(expect.objectContaining({ scope: 'read' }));
    });

    it('a read token may GET and HEAD, and gets 403 for a write', async () => {
      const { token } = await createToken(admin, { name: 'admin-reader', scope: 'read' });
      expect((await t.http().get('/api/auth/me').set(bearer(token))).status).toBe(200);
      expect((await t.http().head('/api/auth/me').set(bearer(token))).status).toBe(200);
      expect((await t.http().get('/api/users').set(bearer(token))).status).toBe(200);
      expectError(
        await t
          .http()
          .post('/api/users')
          .set(bearer(token))
          .send({ username: 'via-read-token', password: 'long-enough-pass', role: 'admin' }),
        403,
      );
      expectError(
        await t
          .http()
          .patch(`/api/users/${bob.userId}`)
          .set(bearer(token))
          .send({ disabled: true }),
        403,
      );
      expectError(
        await t
          .http()
          .post('/api/auth/logout')
          .set(bearer(token))
          .send({ refreshToken: admin.refreshToken }),
        403,
      );
      // Nothing happened.
      const users = await t.http().get('/api/users?perPage=100').set(bearer(admin)).expect(200);
      const names = (users.body.items as { username: string; disabled: boolean }[]).map(
        (u) => u.username,
      );
      expect(names).not.toContain('via-read-token');
      expect(
        (await t.http().get(`/api/users/${bob.userId}`).set(bearer(admin))).body.disabled,
      ).toBe(false);
    });

    it('a write token may write', async () => {
      const { token } = await createToken(admin, { name: 'admin-writer' });
      const res = await t
        .http()
        .patch(`/api/users/${bob.userId}`)
        .set(bearer(token))
        .send({ role: 'user' });
      expect(res.status).toBe(200);
    });

    it('no API token may manage tokens or change the password: only a login session', async () => {
      const write = await createToken(alice, { name: 'w', scope: 'write' });
      const read = await createToken(alice, { name: 'r', scope: 'read' });
      for (const { token } of [write, read]) {
        expectError(await t.http().get('/api/auth/tokens').set(bearer(token)), 403);
        expectError(
          await t
            .http()
            .post('/api/auth/tokens')
            .set(bearer(token))
            .send({ name: 'renewed', expiresInDays: 365 }),
          403,
        );
        expectError(await t.http().delete(`/api/auth/tokens/${write.id}`).set(bearer(token)), 403);
        expectError(
          await t
            .http()
            .post('/api/auth/password')
            .set(bearer(token))
            .send({ currentPassword: alice.password, newPassword: 'taken-over-password' }),
          403,
        );
      }
      // Both still exist and work; the password is unchanged.
      for (const { token } of [write, read]) {
        expect((await t.http().get('/api/auth/me').set(bearer(token))).status).toBe(200);
      }
      const list = await t.http().get('/api/auth/tokens?perPage=100').set(bearer(alice));
      expect((list.body.items as { name: string }[]).map((i) => i.name)).not.toContain('renewed');
      await t
        .http()
        .post('/api/auth/login')
        .send({ username: alice.username, password: alice.password })
        .expect(200);
    });
  });

  describe('an admin and any user’s tokens', () => {
    it('lists them without secrets, paginated', async () => {
      const dave = await createUser(t, admin);
      const made = [
        await createToken(dave, { name: 'one' }),
        await createToken(dave, { name: 'two', scope: 'read' }),
      ];
      const res = await t
        .http()
        .get(`/api/users/${dave.userId}/tokens?perPage=1`)
        .set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 2, page: 1, perPage: 1 });
      expect(res.body.items).toHaveLength(1);
      const all = await t.http().get(`/api/users/${dave.userId}/tokens`).set(bearer(admin));
      expect(all.status).toBe(200);
      expect((all.body.items as { id: string }[]).map((i) => i.id).sort()).toEqual(
        made.map((m) => m.id).sort(),
      );
      for (const item of all.body.items as Record<string, unknown>[]) {
        expect(Object.keys(item).sort()).toEqual([
          'createdAt',
          'expiresAt',
          'id',
          'lastUsedAt',
          'name',
          'scope',
        ]);
      }
      for (const { token } of made) expect(JSON.stringify(all.body)).not.toContain(token);
      expectError(
        await t.http().get(`/api/users/${dave.userId}/tokens?perPage=101`).set(bearer(admin)),
        400,
      );
      expectError(await t.http().get(`/api/users/${MISSING_ID}/tokens`).set(bearer(admin)), 404);
      expectError(await t.http().get('/api/users/nope/tokens').set(bearer(admin)), 400, ['id']);
    });

    it('revokes one (audited); unknown or foreign ids answer 404', async () => {
      const erin = await createUser(t, admin);
      const victim = await createToken(erin, { name: 'leaked' });
      const kept = await createToken(erin, { name: 'kept' });
      const bobs = await createToken(bob, { name: 'bobs' });
      expectError(
        await t.http().delete(`/api/users/${erin.userId}/tokens/${bobs.id}`).set(bearer(admin)),
        404,
      );
      expectError(
        await t.http().delete(`/api/users/${erin.userId}/tokens/${MISSING_ID}`).set(bearer(admin)),
        404,
      );
      expectError(
        await t.http().delete(`/api/users/${erin.userId}/tokens/x`).set(bearer(admin)),
        400,
        ['tokenId'],
      );
      expect((await t.http().get('/api/auth/me').set(bearer(bobs.token))).status).toBe(200);
      const res = await t
        .http()
        .delete(`/api/users/${erin.userId}/tokens/${victim.id}`)
        .set(bearer(admin));
      expect(res.status).toBe(204);
      expectError(await t.http().get('/api/auth/me').set(bearer(victim.token)), 401);
      expect((await t.http().get('/api/auth/me').set(bearer(kept.token))).status).toBe(200);
      expectError(
        await t.http().delete(`/api/users/${erin.userId}/tokens/${victim.id}`).set(bearer(admin)),
        404,
      );
      const audit = await t
        .http()
        .get('/api/audit?action=token.delete&perPage=100')
        .set(bearer(admin))
        .expect(200);
      expect(audit.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            actorId: admin.userId,
            resourceType: 'api_token',
            resourceId: victim.id,
            outcome: 'success',
          }),
        ]),
      );
    });

    it('403 for a plain user, 401 without a token', async () => {
      const { id } = await createToken(bob, { name: 'target' });
      const routes: ['get' | 'delete', string][] = [
        ['get', `/api/users/${bob.userId}/tokens`],
        ['delete', `/api/users/${bob.userId}/tokens/${id}`],
      ];
      for (const [method, path] of routes) {
        expectError(await t.http()[method](path), 401);
        expectError(await t.http()[method](path).set(bearer(alice)), 403);
        expectError(await t.http()[method](path).set(bearer(bob)), 403);
      }
    });
  });

  it('401 without a token on every route', async () => {
    expectError(await t.http().get('/api/auth/tokens'), 401);
    expectError(await t.http().post('/api/auth/tokens').send({ name: 'x' }), 401);
    expectError(await t.http().delete(`/api/auth/tokens/${alice.userId}`), 401);
  });
});
