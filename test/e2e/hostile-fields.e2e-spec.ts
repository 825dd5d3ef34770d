import {
  bodyWith,
  detailsOf,
  discoverRoutes,
  queryParams,
  type ApiRoutes,
  type Route,
} from '../support/api-routes';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** Hostile keys and values in bodies and queries, on every route that takes them. */

/** Fields that legitimately hold line breaks (PEM documents, keys); marked in their DTO. */
const MULTILINE_FIELDS = new Set(['caCert', 'sshPrivateKey']);

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
    // Object.prototype's own names too: class-validator once took `toString` for a known property.
    const RESERVED = ['prototype', ...Object.getOwnPropertyNames(Object.prototype)];

    it('refuses __proto__, prototype and Object.prototype names (constructor, toString, ...) as unknown properties on every route with a body', async () => {
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

  describe('control characters', () => {
    const FORBIDDEN_EVERYWHERE = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085'];
    const LINE_BREAKS = ['\n', '\r', '\t'];

    it('refuses them in every string field of every body (line breaks only where marked)', async () => {
      let checked = 0;
      for (const route of routes.withBody) {
        for (const { path, inArray } of routes.stringFields(routes.bodySchema(route))) {
          const field = path.join('.');
          const leaf = path[path.length - 1];
          const multiline = MULTILINE_FIELDS.has(leaf);
          const refused = multiline
            ? FORBIDDEN_EVERYWHERE
            : [...FORBIDDEN_EVERYWHERE, ...LINE_BREAKS];
          for (const char of refused) {
            const text = `ab${char}cd`;
            const res = await send(route, bodyWith(path, inArray ? [text] : text));
            expect({
              route: route.path,
              char,
              status: res.status,
              details: detailsOf(res),
            }).toEqual({
              route: route.path,
              char,
              status: 400,
              details: expect.arrayContaining([
                {
                  field,
                  message: multiline
                    ? `${leaf} must not contain control characters other than tabs and line breaks`
                    : `${leaf} must not contain control characters`,
                },
              ]),
            });
            checked += 1;
          }
          if (multiline) {
            const res = await send(route, bodyWith(path, 'line one\r\n\tline two\n'));
            // The field may still be refused for its content (not a private key), not for its line breaks.
            const messages = detailsOf(res)
              .filter((d) => d.field === field)
              .map((d) => d.message);
            expect(messages.filter((m) => m.includes('control characters'))).toEqual([]);
          }
        }
      }
      expect(checked).toBeGreaterThan(100);
    });

    it('refuses them in the string query parameters of every list route', async () => {
      for (const route of routes.lists) {
        for (const name of queryParams(route, ['string'])) {
          const res = await t.http().get(`${route.path}?${name}=a%00b`).set(bearer(admin));
          expectError(res, 400, [name]);
        }
      }
    });

    it('a NUL in a login username is a 400, not a database error', async () => {
      const res = await t
        .http()
        .post('/api/auth/login')
        .send({ username: 'adm\u0000in', password: 'whatever-password' });
      expectError(res, 400, ['username']);
    });
  });

  describe('validation messages', () => {
    it('says "<field> is required" once per missing field on every route with a body', async () => {
      for (const route of routes.withBody) {
        const required = routes.bodySchema(route).required ?? [];
        if (required.length === 0) continue;
        const res = await send(route, '{}');
        expect({ route: route.path, details: detailsOf(res) }).toEqual({
          route: route.path,
          details: required.map((field) => ({ field, message: `${field} is required` })),
        });
      }
    });

    it('gives one message per field: the first rule that fails', async () => {
      const login = await t.http().post('/api/auth/login').send({ username: 42, password: '' });
      expect(detailsOf(login)).toEqual([
        { field: 'username', message: 'username must be a string' },
        { field: 'password', message: 'password must be longer than or equal to 1 characters' },
      ]);
      const settings = await t
        .http()
        .put('/api/settings')
        .set(bearer(admin))
        .send({
          defaults: { cores: 'many', memoryMb: 64, diskGb: 1, swapMb: 0 },
          limits: { maxCores: 1, maxMemoryMb: 128, maxDiskGb: 1, maxAppsPerUser: 1 },
          network: { ipMode: 'dhcp', dns: [] },
        });
      expect(detailsOf(settings)).toEqual([
        { field: 'defaults.cores', message: 'cores must be an integer number' },
        { field: 'defaults.memoryMb', message: 'memoryMb must not be less than 128' },
      ]);
    });
  });
});
