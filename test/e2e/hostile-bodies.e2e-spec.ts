import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { discoverRoutes, type ApiRoutes, type Route } from '../support/api-routes';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** Request bodies that are hostile as a whole, sent to every route that takes one. */

const MAX_DEPTH = 32;
const MAX_ENTRIES = 1000;

describe('hostile request bodies', () => {
  let t: TestApp;
  let admin: Session;
  let routes: ApiRoutes;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    routes = await discoverRoutes(t);
  });
  afterAll(() => t?.close());

  function send(route: Route, raw: string, session?: Session) {
    const req = t.http()[route.method](route.path).set('Content-Type', 'application/json');
    if (session) req.set(bearer(session));
    return req.send(raw);
  }

  it('finds the routes it is meant to cover', () => {
    expect(routes.withBody.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['post /api/auth/login', 'put /api/settings']),
    );
  });

  describe('nesting and size, refused before parsing', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

    it('answers 400 to deep nesting on every route with a body, even anonymously', async () => {
      for (const route of routes.withBody) {
        for (const depth of [MAX_DEPTH + 1, 5_000, 120_000]) {
          const body = expectError(await send(route, `{"a":${nested(depth - 1)}}`), 400);
          expect({ route: route.path, depth, message: body.message }).toEqual({
            route: route.path,
            depth,
            message: `Request body is nested too deeply (at most ${MAX_DEPTH} levels)`,
          });
        }
      }
    });

    it('answers 400 to an array or object with too many entries on every route with a body', async () => {
      const many = Array.from({ length: MAX_ENTRIES + 1 }, () => '0').join(',');
      const keys = Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => `"k${i}":0`).join(',');
      for (const route of routes.withBody) {
        for (const raw of [`{"a":[${many}]}`, `{${keys}}`]) {
          const body = expectError(await send(route, raw, admin), 400);
          expect({ route: route.path, message: body.message }).toEqual({
            route: route.path,
            message: `Request body has more than ${MAX_ENTRIES} entries in one object or array`,
          });
        }
      }
    });

    it('lets shapes within the limits through to validation', async () => {
      const entries = Array(MAX_ENTRIES).fill(0).join(',');
      const within = `{"username":${nested(MAX_DEPTH - 1)},"password":[${entries}]}`;
      const res = await t
        .http()
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send(within);
      expectError(res, 400, ['username', 'password']);
    });

    it('reads brackets, commas and quotes inside strings as text', async () => {
      const res = await t
        .http()
        .post('/api/auth/login')
        .send({ username: '[{,'.repeat(20), password: '{"\\'.repeat(60) });
      expect(res.status).toBe(401);
    });
  });

  describe('encodings', () => {
    const login = Buffer.from(JSON.stringify({ username: 'nobody', password: 'wrong-password-1' }));

    /** Plain node:http: superagent rewrites bodies sent with a Content-Encoding. */
    async function post(headers: Record<string, string>, body: Buffer) {
      const server: Server = t.app.getHttpServer();
      if (!server.listening) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;
      return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/auth/login',
            headers: { 'content-type': 'application/json', ...headers },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(text) as Record<string, unknown>,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    }

    it('answers a corrupt or truncated gzip body with 400 in the envelope', async () => {
      const corrupt = gzipSync(login);
      corrupt.fill(0x55, 10, 20);
      const truncated = gzipSync(login).subarray(0, 12);
      for (const body of [corrupt, truncated]) {
        expect(await post({ 'content-encoding': 'gzip' }, body)).toMatchObject({
          status: 400,
          body: { statusCode: 400, message: 'Request body could not be decompressed' },
        });
      }
    });

    it('reads a good gzip body', async () => {
      const res = await post({ 'content-encoding': 'gzip' }, gzipSync(login));
      expect(res.status).toBe(401);
    });

    it('checks the shape of a compressed body after decompression', async () => {
      const deep = gzipSync(Buffer.from(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`));
      expect(await post({ 'content-encoding': 'gzip' }, deep)).toMatchObject({
        status: 400,
        body: { message: `Request body is nested too deeply (at most ${MAX_DEPTH} levels)` },
      });
    });

    it('answers an unknown Content-Encoding with 415', async () => {
      expect(await post({ 'content-encoding': 'x-hostile' }, login)).toMatchObject({
        status: 415,
        body: {
          statusCode: 415,
          message: 'Content-Encoding must be gzip, deflate, br or identity',
        },
      });
    });

    it('answers a charset other than UTF-8 with 415', async () => {
      const utf16 = Buffer.from(login.toString(), 'utf16le');
      expect(
        await post({ 'content-type': 'application/json; charset=utf-16le' }, utf16),
      ).toMatchObject({
        status: 415,
        body: { statusCode: 415, message: 'Request body must be UTF-8' },
      });
    });
  });

  describe('the body as a whole', () => {
    it('answers 400 "must be a JSON object" to null, arrays and scalars on every route with a body', async () => {
      for (const route of routes.withBody) {
        for (const raw of ['null', '[]', '[{}]', '"text"', '42', 'true']) {
          const body = expectError(await send(route, raw, admin), 400);
          expect({ route: route.path, raw, message: body.message }).toEqual({
            route: route.path,
            raw,
            message: 'Request body must be a JSON object',
          });
        }
      }
    });

    it('answers 400 "must be a JSON object" when a body is missing or not JSON', async () => {
      for (const route of routes.withBody) {
        const missing = await t.http()[route.method](route.path).set(bearer(admin));
        expect({ route: route.path, message: expectError(missing, 400).message }).toEqual({
          route: route.path,
          message: 'Request body must be a JSON object',
        });
        const text = await t
          .http()
          [route.method](route.path)
          .set(bearer(admin))
          .set('Content-Type', 'text/plain')
          .send('username=admin');
        expect({ route: route.path, message: expectError(text, 400).message }).toEqual({
          route: route.path,
          message: 'Request body must be a JSON object',
        });
      }
    });
  });
});
