import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { startFreshApp, type TestApp } from '../support/test-app';

/** Request bodies that are hostile as a whole, sent to every route that takes one. */

describe('hostile request bodies', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startFreshApp();
  });
  afterAll(() => t?.close());

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

    it('answers an unknown Content-Encoding with 415', async () => {
      expect(await post({ 'content-encoding': 'x-hostile' }, login)).toMatchObject({
        status: 415,
        body: {
          statusCode: 415,
          message: 'Content-Encoding must be gzip, deflate, br or identity',
        },
      });
    });
  });
});
