import { detailsOf, discoverRoutes, type ApiRoutes, type Route } from '../support/api-routes';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** Hostile keys and values in bodies and queries, on every route that takes them. */

describe('hostile fields', () => {
  let t: TestApp;
  let admin: Session;
  let routes: ApiRoutes;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    routes = await discoverRoutes(t);
  });
  afterAll(() => t?.close());

  function send(route: Route, body: string | object) {
    return t
      .http()
      [route.method](route.path)
      .set(bearer(admin))
      .set('Content-Type', 'application/json')
      .send(body);
  }

  describe('reserved keys', () => {
    const RESERVED = ['__proto__', 'constructor', 'prototype'];

    it('refuses __proto__, constructor and prototype as unknown properties on every route with a body', async () => {
      for (const route of routes.withBody) {
        for (const key of RESERVED) {
          const res = await send(route, `{"${key}":{"role":"admin"}}`);
          expectError(res, 400);
          expect({ route: route.path, details: detailsOf(res) }).toEqual({
            route: route.path,
            details: expect.arrayContaining([
              { field: key, message: `property ${key} should not exist` },
            ]),
          });
        }
      }
    });

    it('refuses them at any depth', async () => {
      const settings: Route = { method: 'put', path: '/api/settings', op: {} };
      for (const key of RESERVED) {
        const res = await send(
          settings,
          `{"network":{"ipMode":"dhcp","dns":[],"${key}":{"x":1}},"limits":[{"${key}":1}]}`,
        );
        expectError(res, 400, [`network.${key}`, `limits.0.${key}`]);
      }
    });

    it('refuses them in the query of every list route', async () => {
      for (const route of routes.lists) {
        for (const key of RESERVED) {
          const res = await t.http().get(`${route.path}?${key}=1`).set(bearer(admin));
          expectError(res, 400, [key]);
        }
      }
    });
  });
});
