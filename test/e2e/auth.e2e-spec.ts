import { EntityManager } from '@mikro-orm/postgresql';
import Redis from 'ioredis';
import { Agent } from 'node:http';
import { createHmac } from 'node:crypto';
import { loginThrottleKey } from '../../src/auth/login-throttle';
import { tokenDigest } from '../../src/crypto/token-digest';
import { expectError } from '../support/expectations';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  startApp,
  startFreshApp,
  type TestApp,
} from '../support/test-app';
import { bearer, createUser, login, loginAdmin, type Session } from '../support/users';

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signJwt(payload: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }) {
  const unsigned = `${base64url(header)}.${base64url(payload)}`;
  const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

describe('auth', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
  });
  afterAll(() => t?.close());

  describe('POST /api/auth/login', () => {
    it('answers the token pair and the user', async () => {
      const res = await t
        .http()
        .post('/api/auth/login')
        .send({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        expiresIn: 900,
        user: {
          id: expect.any(String),
          username: ADMIN_USERNAME,
          role: 'admin',
          disabled: false,
          createdAt: expect.any(String),
        },
      });
    });

    it('accepts the username in any case', async () => {
      const res = await t
        .http()
        .post('/api/auth/login')
        .send({ username: ADMIN_USERNAME.toUpperCase(), password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
    });

    it('answers the same 401 for an unknown user, a wrong password and a disabled user', async () => {
      const user = await createUser(t, admin);
      await t
        .http()
        .patch(`/api/users/${user.userId}`)
        .set(bearer(admin))
        .send({ disabled: true })
        .expect(200);
      const unknown = await t
        .http()
        .post('/api/auth/login')
        .send({ username: 'nobody-here', password: 'whatever-password' });
      const wrong = await t
        .http()
        .post('/api/auth/login')
        .send({ username: ADMIN_USERNAME, password: 'wrong-password-123' });
      const disabled = await t
        .http()
        .post('/api/auth/login')
        .send({ username: user.username, password: user.password });
      const messages = [unknown, wrong, disabled].map((res) => expectError(res, 401).message);
      expect(new Set(messages).size).toBe(1);
    });

    it('validates the body', async () => {
      expectError(await t.http().post('/api/auth/login').send({}), 400, ['username', 'password']);
      expectError(
        await t.http().post('/api/auth/login').send({ username: 'a', password: 'b', extra: 1 }),
        400,
        ['extra'],
      );
      expectError(
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: 5, password: ['x'] }),
        400,
        ['username', 'password'],
      );
    });

    it('locks a username+address pair after 5 failures, even for the right password', async () => {
      const user = await createUser(t, admin);
      for (let i = 0; i < 5; i += 1) {
        const res = await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: 'not-the-password' });
        expect(res.status).toBe(401);
      }
      const locked = await t
        .http()
        .post('/api/auth/login')
        .send({ username: user.username, password: user.password });
      expectError(locked, 429);
      const retryAfter = Number(locked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      // Another username from the same address is not affected.
      expect(
        (
          await t
            .http()
            .post('/api/auth/login')
            .send({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD })
        ).status,
      ).toBe(200);
    });

    it('resets the failure count after a success', async () => {
      const user = await createUser(t, admin);
      const fail = () =>
        t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: 'nope-nope-nope' });
      for (let i = 0; i < 4; i += 1) expect((await fail()).status).toBe(401);
      await login(t, user.username, user.password);
      for (let i = 0; i < 4; i += 1) expect((await fail()).status).toBe(401);
      expect(
        (
          await t
            .http()
            .post('/api/auth/login')
            .send({ username: user.username, password: user.password })
        ).status,
      ).toBe(200);
    });

    it('holds the lockout across API replicas sharing Redis', async () => {
      const user = await createUser(t, admin);
      const replica = await startApp({ ...t.env, LOG_LEVEL: 'silent' });
      try {
        for (let i = 0; i < 5; i += 1) {
          const target = i % 2 === 0 ? t : replica;
          await target
            .http()
            .post('/api/auth/login')
            .send({ username: user.username, password: 'wrong-wrong-wrong' })
            .expect(401);
        }
        const onReplica = await replica
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password });
        const onFirst = await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password });
        expectError(onReplica, 429);
        expectError(onFirst, 429);
      } finally {
        await replica.close();
      }
    });
  });

  describe('login lockout', () => {
    const wrongLogin = (app: TestApp, username: string) =>
      app.http().post('/api/auth/login').send({ username, password: 'not-the-password' });

    it('counts each attempt before checking it: of 60 parallel wrong logins exactly 5 answer 401', async () => {
      const user = await createUser(t, admin);
      const results = await Promise.all(
        Array.from({ length: 60 }, () => wrongLogin(t, user.username)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(55);
      for (const res of results.filter((r) => r.status === 429)) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      expectError(
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password }),
        429,
      );
    });

    it('gives a counter left without an expiry one, so it cannot lock the pair forever', async () => {
      const user = await createUser(t, admin);
      expectError(await wrongLogin(t, user.username), 401);
      // The address the app saw, as the audit log recorded it.
      const audit = await t
        .http()
        .get('/api/audit?action=auth.login&perPage=100')
        .set(bearer(admin))
        .expect(200);
      const failure = (
        audit.body.items as { resourceId: string; outcome: string; ip: string }[]
      ).find((e) => e.resourceId === user.userId && e.outcome === 'failure');
      const ip = failure?.ip ?? 'missing';
      expect(ip).toBe('127.0.0.1');
      // A process that died between INCR and EXPIRE left this behind.
      const key = `${t.env.REDIS_PREFIX}:${loginThrottleKey(user.username, ip)}`;
      const redis = new Redis(t.config.redis.url);
      try {
        await redis.set(key, '5');
        expect(await redis.pttl(key)).toBe(-1);
        const locked = await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password });
        expectError(locked, 429);
        expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(900_000);
      } finally {
        redis.disconnect();
      }
    });

    describe('per client address', () => {
      const agents: Agent[] = [];
      const from = (localAddress: string): Agent => {
        const agent = new Agent({ localAddress });
        agents.push(agent);
        return agent;
      };
      afterAll(() => agents.forEach((a) => a.destroy()));

      it('locks only the address the failures came from', async () => {
        const user = await createUser(t, admin);
        const second = from('127.0.0.2');
        for (let i = 0; i < 5; i += 1) {
          expectError(await wrongLogin(t, user.username).agent(second), 401);
        }
        const body = { username: user.username, password: user.password };
        expectError(await t.http().post('/api/auth/login').send(body).agent(second), 429);
        const first = await t.http().post('/api/auth/login').send(body).agent(from('127.0.0.1'));
        expect(first.status).toBe(200);
      });

      it('with TRUST_PROXY_HOPS=0, a forged X-Forwarded-For neither evades nor resets it', async () => {
        const user = await createUser(t, admin);
        for (let i = 0; i < 5; i += 1) {
          const res = await wrongLogin(t, user.username).set('X-Forwarded-For', `198.51.100.${i}`);
          expectError(res, 401);
        }
        const locked = await t
          .http()
          .post('/api/auth/login')
          .set('X-Forwarded-For', '198.51.100.77')
          .send({ username: user.username, password: user.password });
        expectError(locked, 429);
      });

      it('with TRUST_PROXY_HOPS=1, the address the proxy forwards is the one locked', async () => {
        const user = await createUser(t, admin);
        const proxied = await startApp({ ...t.env, TRUST_PROXY_HOPS: '1', LOG_LEVEL: 'silent' });
        try {
          for (let i = 0; i < 5; i += 1) {
            const res = await wrongLogin(proxied, user.username).set(
              'X-Forwarded-For',
              '203.0.113.7',
            );
            expectError(res, 401);
          }
          const body = { username: user.username, password: user.password };
          const locked = await proxied
            .http()
            .post('/api/auth/login')
            .set('X-Forwarded-For', '203.0.113.7')
            .send(body);
          expectError(locked, 429);
          const otherClient = await proxied
            .http()
            .post('/api/auth/login')
            .set('X-Forwarded-For', '203.0.113.8')
            .send(body);
          expect(otherClient.status).toBe(200);
        } finally {
          await proxied.close();
        }
      });
    });
  });

  describe('bearer tokens', () => {
    it('401 without a token, with garbage, a tampered, an expired, a foreign-key or an alg:none token', async () => {
      const secret = t.config.auth.jwtSecret;
      const now = Math.floor(Date.now() / 1000);
      const [header, payload] = admin.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
        sub: string;
        iat: number;
        exp: number;
      };
      const tampered = `${header}.${base64url({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })}.${admin.accessToken.split('.')[2]}`;
      const expired = signJwt(
        { sub: claims.sub, typ: 'access', iat: now - 7200, exp: now - 3600 },
        secret,
      );
      const otherKey = signJwt(
        { sub: claims.sub, typ: 'access', iat: now, exp: now + 600 },
        'x'.repeat(40),
      );
      const algNone = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: claims.sub, typ: 'access', iat: now, exp: now + 600 })}.`;
      const wrongType = signJwt(
        { sub: claims.sub, typ: 'refresh', iat: now, exp: now + 600 },
        secret,
      );
      // Correctly signed, but without the claims that bound its life.
      const { exp: _exp, ...withoutExp } = claims;
      const { iat: _iat, ...withoutIat } = claims;
      const noExp = signJwt(withoutExp, secret);
      const noIat = signJwt(withoutIat, secret);
      expect(_exp).toEqual(expect.any(Number));
      expect(_iat).toEqual(expect.any(Number));
      // The same claims with both: accepted, so only the missing claim is refused above.
      expect(
        (
          await t
            .http()
            .get('/api/auth/me')
            .set(bearer(signJwt(claims, secret)))
        ).status,
      ).toBe(200);
      expectError(await t.http().get('/api/auth/me'), 401);
      for (const token of [
        'garbage',
        tampered,
        expired,
        otherKey,
        algNone,
        wrongType,
        noExp,
        noIat,
      ]) {
        expectError(await t.http().get('/api/auth/me').set(bearer(token)), 401);
      }
      expectError(
        await t.http().get('/api/auth/me').set('Authorization', `Basic ${admin.accessToken}`),
        401,
      );
      // A token in the query string is never read.
      expectError(await t.http().get(`/api/auth/me?access_token=${admin.accessToken}`), 401);
      // The genuine token still works.
      expect((await t.http().get('/api/auth/me').set(bearer(admin))).status).toBe(200);
    });

    it('reads the scheme word in any case', async () => {
      for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
        const res = await t
          .http()
          .get('/api/auth/me')
          .set('Authorization', `${scheme} ${admin.accessToken}`);
        expect({ scheme, status: res.status }).toEqual({ scheme, status: 200 });
      }
    });

    it('GET /api/auth/me answers the bare user', async () => {
      const res = await t.http().get('/api/auth/me').set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: admin.userId,
        username: ADMIN_USERNAME,
        role: 'admin',
        disabled: false,
        createdAt: expect.any(String),
      });
    });

    it('a disabled user is refused at its very next request, with its JWT and its API token', async () => {
      const user = await createUser(t, admin);
      const created = await t
        .http()
        .post('/api/auth/tokens')
        .set(bearer(user))
        .send({ name: 'script' });
      expect(created.status).toBe(201);
      const apiToken = created.body.token as string;
      expect((await t.http().get('/api/auth/me').set(bearer(apiToken))).status).toBe(200);
      await t
        .http()
        .patch(`/api/users/${user.userId}`)
        .set(bearer(admin))
        .send({ disabled: true })
        .expect(200);
      expectError(await t.http().get('/api/auth/me').set(bearer(user)), 401);
      expectError(await t.http().get('/api/auth/me').set(bearer(apiToken)), 401);
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        401,
      );
      // Re-enabled: the JWT works again, the revoked refresh token does not.
      await t
        .http()
        .patch(`/api/users/${user.userId}`)
        .set(bearer(admin))
        .send({ disabled: false })
        .expect(200);
      expect((await t.http().get('/api/auth/me').set(bearer(user))).status).toBe(200);
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        401,
      );
    });

    it('a demoted admin loses admin routes at once', async () => {
      const second = await createUser(t, admin, 'admin');
      expect((await t.http().get('/api/users').set(bearer(second))).status).toBe(200);
      await t
        .http()
        .patch(`/api/users/${second.userId}`)
        .set(bearer(admin))
        .send({ role: 'user' })
        .expect(200);
      expectError(await t.http().get('/api/users').set(bearer(second)), 403);
    });
  });

  describe('POST /api/auth/refresh', () => {
    it('rotates: a new pair, and the old refresh token is dead', async () => {
      const user = await createUser(t, admin);
      const res = await t
        .http()
        .post('/api/auth/refresh')
        .send({ refreshToken: user.refreshToken });
      expect(res.status).toBe(200);
      expect(res.body.refreshToken).not.toBe(user.refreshToken);
      expect(res.body.user.username).toBe(user.username);
      expect((await t.http().get('/api/auth/me').set(bearer(res.body.accessToken))).status).toBe(
        200,
      );
      const again = await t
        .http()
        .post('/api/auth/refresh')
        .send({ refreshToken: res.body.refreshToken });
      expect(again.status).toBe(200);
    });

    it('re-use of a rotated token revokes the whole family', async () => {
      const user = await createUser(t, admin);
      const first = await t
        .http()
        .post('/api/auth/refresh')
        .send({ refreshToken: user.refreshToken });
      expect(first.status).toBe(200);
      // The stolen, already rotated token comes back.
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        401,
      );
      // The legitimate holder's newer token died with its family.
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: first.body.refreshToken }),
        401,
      );
      // Another session of the same user (another family) is untouched.
      const other = await login(t, user.username, user.password);
      expect(
        (await t.http().post('/api/auth/refresh').send({ refreshToken: other.refreshToken }))
          .status,
      ).toBe(200);
      const audit = await t.http().get('/api/audit?action=auth.refresh_reuse').set(bearer(admin));
      expect(audit.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actorId: user.userId, outcome: 'failure' }),
        ]),
      );
    });

    it('two concurrent refreshes with one token: one wins, the family is revoked', async () => {
      const user = await createUser(t, admin);
      const [a, b] = await Promise.all([
        t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 401]);
      const winner = a.status === 200 ? a : b;
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: winner.body.refreshToken }),
        401,
      );
    });

    it('refuses an expired refresh token', async () => {
      const user = await createUser(t, admin);
      const other = await login(t, user.username, user.password);
      await t.app
        .get(EntityManager)
        .getConnection()
        .execute(
          `update refresh_token set expires_at = now() - interval '1 second' where token_hash = ?`,
          [tokenDigest(user.refreshToken)],
        );
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        401,
      );
      // The other session, whose token did not expire, is unaffected.
      expect(
        (await t.http().post('/api/auth/refresh').send({ refreshToken: other.refreshToken }))
          .status,
      ).toBe(200);
    });

    it('401 for an unknown token, 400 for a missing one', async () => {
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: 'not-a-token' }),
        401,
      );
      expectError(await t.http().post('/api/auth/refresh').send({}), 400, ['refreshToken']);
    });
  });

  describe('POST /api/auth/logout', () => {
    it('revokes the refresh token', async () => {
      const user = await createUser(t, admin);
      const res = await t
        .http()
        .post('/api/auth/logout')
        .set(bearer(user))
        .send({ refreshToken: user.refreshToken });
      expect(res.status).toBe(204);
      expectError(
        await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken }),
        401,
      );
    });

    it('cannot revoke somebody else’s refresh token', async () => {
      const victim = await createUser(t, admin);
      const attacker = await createUser(t, admin);
      await t
        .http()
        .post('/api/auth/logout')
        .set(bearer(attacker))
        .send({ refreshToken: victim.refreshToken })
        .expect(204);
      expect(
        (await t.http().post('/api/auth/refresh').send({ refreshToken: victim.refreshToken }))
          .status,
      ).toBe(200);
    });

    it('401 without a token, 400 without a body', async () => {
      expectError(await t.http().post('/api/auth/logout').send({ refreshToken: 'x' }), 401);
      expectError(await t.http().post('/api/auth/logout').set(bearer(admin)).send({}), 400, [
        'refreshToken',
      ]);
    });
  });

  describe('POST /api/auth/password', () => {
    it('changes the password and revokes every refresh token', async () => {
      const user = await createUser(t, admin);
      const second = await login(t, user.username, user.password);
      const newPassword = 'a-brand-new-password';
      const res = await t
        .http()
        .post('/api/auth/password')
        .set(bearer(user))
        .send({ currentPassword: user.password, newPassword });
      expect(res.status).toBe(204);
      for (const session of [user, second]) {
        expectError(
          await t.http().post('/api/auth/refresh').send({ refreshToken: session.refreshToken }),
          401,
        );
      }
      expectError(
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password }),
        401,
      );
      await login(t, user.username, newPassword);
    });

    it('a wrong current password is a 400 on currentPassword', async () => {
      const user = await createUser(t, admin);
      const res = await t
        .http()
        .post('/api/auth/password')
        .set(bearer(user))
        .send({ currentPassword: 'not-my-password', newPassword: 'another-long-password' });
      expectError(res, 400, ['currentPassword']);
      expect(
        (await t.http().post('/api/auth/refresh').send({ refreshToken: user.refreshToken })).status,
      ).toBe(200);
    });

    it('access tokens issued before the change stop working; a session started right after works', async () => {
      const user = await createUser(t, admin);
      const second = await login(t, user.username, user.password);
      const newPassword = 'password-after-change';
      await t
        .http()
        .post('/api/auth/password')
        .set(bearer(user))
        .send({ currentPassword: user.password, newPassword })
        .expect(204);
      for (const session of [user, second]) {
        expectError(await t.http().get('/api/auth/me').set(bearer(session)), 401);
      }
      // Within the same second as the change: no clock granularity to trip over.
      const fresh = await login(t, user.username, newPassword);
      expect((await t.http().get('/api/auth/me').set(bearer(fresh))).status).toBe(200);
      const refreshed = await t
        .http()
        .post('/api/auth/refresh')
        .send({ refreshToken: fresh.refreshToken })
        .expect(200);
      expect(
        (await t.http().get('/api/auth/me').set(bearer(refreshed.body.accessToken))).status,
      ).toBe(200);
      // Issued within the same second as the login's, yet a token of its own.
      expect(refreshed.body.accessToken).not.toBe(fresh.accessToken);
    });

    it('wrong current passwords count toward the login lockout of that username and address', async () => {
      const user = await createUser(t, admin);
      const change = (currentPassword: string) =>
        t
          .http()
          .post('/api/auth/password')
          .set(bearer(user))
          .send({ currentPassword, newPassword: 'never-gets-set-123' });
      const results = await Promise.all(Array.from({ length: 15 }, () => change('a-wrong-guess')));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 400)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      for (const res of results.filter((r) => r.status === 400)) {
        expectError(res, 400, ['currentPassword']);
      }
      // Even the right password is refused now, here and at the login form.
      const right = await change(user.password);
      expectError(right, 429);
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
      expectError(
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: user.password }),
        429,
      );
      // The password did not change.
      expect((await t.http().get('/api/auth/me').set(bearer(user))).status).toBe(200);
    });

    it('failed logins count toward it too; a successful change resets the count', async () => {
      const user = await createUser(t, admin);
      for (let i = 0; i < 4; i += 1) {
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: 'wrong-wrong-wrong' })
          .expect(401);
      }
      await t
        .http()
        .post('/api/auth/password')
        .set(bearer(user))
        .send({ currentPassword: user.password, newPassword: 'changed-password-12' })
        .expect(204);
      for (let i = 0; i < 5; i += 1) {
        await t
          .http()
          .post('/api/auth/login')
          .send({ username: user.username, password: 'wrong-wrong-wrong' })
          .expect(401);
      }
    });

    it('validates the new password and needs a token', async () => {
      expectError(
        await t
          .http()
          .post('/api/auth/password')
          .set(bearer(admin))
          .send({ currentPassword: ADMIN_PASSWORD, newPassword: 'short' }),
        400,
        ['newPassword'],
      );
      expectError(
        await t
          .http()
          .post('/api/auth/password')
          .send({ currentPassword: 'a', newPassword: 'b'.repeat(12) }),
        401,
      );
    });
  });

  it('never writes a password or token to the log', () => {
    const text = t.logs.text;
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain(admin.accessToken);
    expect(text).not.toContain(admin.refreshToken);
    expect(text).not.toContain(t.config.auth.jwtSecret);
  });
});
