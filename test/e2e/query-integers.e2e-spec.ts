import {
  detailsOf,
  discoverRoutes,
  queryParams,
  SOME_ID,
  type ApiRoutes,
} from '../support/api-routes';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** Integers in query strings, on every list route, discovered from the OpenAPI document. */

const NOT_PLAIN = ['2e0', '0x2', '+2', ' 2', '2 ', '2.0', '-2', '', '0b10', '２', '2&page=3'];

describe('query integers', () => {
  let t: TestApp;
  let admin: Session;
  let routes: ApiRoutes;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    routes = await discoverRoutes(t);
  });
  afterAll(() => t?.close());

  it('documents page and perPage as integers on every list route', () => {
    expect(routes.lists.length).toBeGreaterThanOrEqual(5);
    for (const route of routes.lists) {
      expect({ route: route.path, integers: queryParams(route, ['integer']) }).toEqual({
        route: route.path,
        integers: expect.arrayContaining(['page', 'perPage']),
      });
    }
  });

  it('accepts only plain decimal digits in every integer query parameter of every list route', async () => {
    let checked = 0;
    for (const route of routes.lists) {
      for (const name of queryParams(route, ['integer', 'number'])) {
        for (const value of NOT_PLAIN) {
          const raw = value.includes('&') ? value.replace('page', name) : encodeURIComponent(value);
          const res = await t.http().get(`${route.path}?${name}=${raw}`).set(bearer(admin));
          expect({ route: route.path, value, status: res.status, details: detailsOf(res) }).toEqual(
            {
              route: route.path,
              value,
              status: 400,
              details: [{ field: name, message: `${name} must be an integer number` }],
            },
          );
          checked += 1;
        }
        // A list under a resource is reached with an id that exists nowhere: past validation it is 404.
        const accepted = route.path.includes(SOME_ID) ? 404 : 200;
        for (const plain of ['2', '02']) {
          const res = await t.http().get(`${route.path}?${name}=${plain}`).set(bearer(admin));
          expect({ route: route.path, name, plain, status: res.status }).toEqual({
            route: route.path,
            name,
            plain,
            status: accepted,
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
