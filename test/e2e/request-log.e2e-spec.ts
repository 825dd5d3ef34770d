import { SettingsService } from '../../src/settings/settings.service';
import { waitFor } from '../support/spawn-app';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

describe('request log lines', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startFreshApp({}, 'reqlog');
    admin = await loginAdmin(t);
  });
  afterAll(() => t?.close());

  /** The raw line pino-http wrote when the request with this id finished. */
  function completedLine(requestId: string): Promise<string> {
    return waitFor(() =>
      Promise.resolve(
        t.logs.lines.find((line) => {
          const entry = JSON.parse(line) as { req?: { id?: string }; responseTime?: unknown };
          return entry.req?.id === requestId && entry.responseTime !== undefined;
        }),
      ),
    );
  }

  it('carries method, route pattern, status, duration, request id and user id, nothing more', async () => {
    await t
      .http()
      .get(`/api/users/${admin.userId}`)
      .set(bearer(admin))
      .set('x-request-id', 'log-ok')
      .expect(200);
    const line = await completedLine('log-ok');
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: expect.any(Number),
      hostname: expect.any(String),
      role: 'all',
      req: { id: 'log-ok', method: 'GET' },
      route: '/api/users/:id',
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      userId: admin.userId,
      msg: 'request completed',
    });
    expect(line).not.toMatch(/headers|content-security-policy|x-request-id/i);
    expect(line.length).toBeLessThan(400);
  });

  it('an unmatched path is logged without its query string, and without a user', async () => {
    await t
      .http()
      .get('/api/no-such-route/42?token=query-secret')
      .set('x-request-id', 'log-404')
      .expect(404);
    const entry = JSON.parse(await completedLine('log-404')) as Record<string, unknown>;
    expect(entry).toMatchObject({ path: '/api/no-such-route/42', res: { statusCode: 404 } });
    expect(entry).not.toHaveProperty('route');
    expect(entry).not.toHaveProperty('userId');
    expect(JSON.stringify(entry)).not.toContain('query-secret');
  });

  it('a failed request has the same fields; its error is logged once, by the exception filter', async () => {
    const spy = jest
      .spyOn(t.app.get(SettingsService), 'get')
      .mockRejectedValueOnce(new Error('settings unavailable'));
    try {
      await t.http().get('/api/settings').set(bearer(admin)).set('x-request-id', 'log-500');
      const line = await completedLine('log-500');
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({
        req: { id: 'log-500', method: 'GET' },
        route: '/api/settings',
        res: { statusCode: 500 },
        userId: admin.userId,
      });
      expect(entry).not.toHaveProperty('err');
      expect(line).not.toMatch(/headers|content-security-policy/i);
      const errors = t.logs.entries().filter((e) => e.requestId === 'log-500' && e.err);
      expect(errors.map((e) => (e.err as { message: string }).message)).toEqual([
        'settings unavailable',
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
