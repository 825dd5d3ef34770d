import { collectRoutes, type DiscoveredRoute as Route } from '../support/controller-routes';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const concrete = (path: string) =>
  path.replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000000');

describe('route permissions', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;
  let routes: Route[];

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    routes = collectRoutes(t);
  });
  afterAll(() => t?.close());

  it('matches the reviewed snapshot: a new or changed route must be looked at', () => {
    expect(
      routes.map(
        (r) =>
          `${r.method} ${r.path} ${r.access}${r.ownerScoped ? ' owner-scoped' : ''}${r.sessionOnly ? ' session-only' : ''}`,
      ),
    ).toMatchSnapshot();
  });

  it('every route declares its access explicitly', () => {
    expect(routes.filter((r) => r.access === 'user (default)')).toEqual([]);
  });

  it('every non-public route answers 401 without a token', async () => {
    for (const route of routes.filter((r) => r.access !== 'public')) {
      const res = await t
        .http()
        [route.method.toLowerCase() as 'get'](concrete(route.path))
        .send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
      });
    }
  });

  it('every admin route answers 403 to a plain user', async () => {
    for (const route of routes.filter((r) => r.access === 'admin')) {
      const res = await t
        .http()
        [route.method.toLowerCase() as 'get'](concrete(route.path))
        .set(bearer(user))
        .send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 403,
      });
    }
  });

  it('a read-scoped API token gets 403 on every route that does not only read', async () => {
    const created = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(admin))
      .send({ name: 'read-everything', scope: 'read' })
      .expect(201);
    const writes = routes.filter((r) => r.access !== 'public' && r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(10);
    for (const route of writes) {
      const res = await t
        .http()
        [route.method.toLowerCase() as 'get'](concrete(route.path))
        .set(bearer(created.body.token as string))
        .send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 403,
      });
    }
  });

  it('no API token, even a write-scoped admin one, passes a session-only route', async () => {
    const created = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(admin))
      .send({ name: 'write-everything', scope: 'write' })
      .expect(201);
    const sessionOnly = routes.filter((r) => r.sessionOnly);
    expect(sessionOnly.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE /api/auth/tokens/:id',
      'GET /api/auth/tokens',
      'POST /api/auth/password',
      'POST /api/auth/tokens',
    ]);
    for (const route of sessionOnly) {
      const res = await t
        .http()
        [route.method.toLowerCase() as 'get'](concrete(route.path))
        .set(bearer(created.body.token as string))
        .send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 403,
      });
    }
  });
});
