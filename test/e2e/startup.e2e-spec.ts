import { EntityManager } from '@mikro-orm/postgresql';
import { request as httpRequest } from 'node:http';
import { spawnEntry, waitFor } from '../support/spawn-app';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';
import { freePort } from '../support/free-port';

describe('start-up', () => {
  it('two instances started together on an empty database create exactly one admin', async () => {
    const env = testEnvironment({}, 'bootstrap');
    await resetState(env, 'bootstrap');
    const apps: TestApp[] = await Promise.all([startApp(env), startApp(env), startApp(env)]);
    try {
      const rows = await apps[0].app
        .get(EntityManager)
        .getConnection()
        .execute<{ username: string; role: string }[]>('select username, role from user_account');
      expect(rows).toEqual([{ username: 'admin', role: 'admin' }]);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  it('no admin is created when the variables are absent, and none is added to a non-empty database', async () => {
    const env = testEnvironment({}, 'noadmin');
    delete env.PROXIMITY_ADMIN_USERNAME;
    delete env.PROXIMITY_ADMIN_PASSWORD;
    await resetState(env, 'noadmin');
    const t = await startApp(env);
    try {
      const sql = t.app.get(EntityManager).getConnection();
      expect(await sql.execute('select count(*)::int as n from user_account')).toEqual([{ n: 0 }]);
    } finally {
      await t.close();
    }
  });

  it('refuses to start with a missing or bad variable, naming it without echoing secrets', async () => {
    const env = testEnvironment();
    delete env.JWT_SECRET;
    env.PROXIMITY_ENCRYPTION_KEY = 'not-a-key-but-maybe-a-secret';
    env.PORT = 'eighty';
    const run = spawnEntry('src/main.ts', env);
    expect(await run.exited).toBe(1);
    const stderr = run.stderr();
    expect(stderr).toContain('JWT_SECRET is required');
    expect(stderr).toContain('PROXIMITY_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
    expect(stderr).toContain('PORT');
    expect(stderr).not.toContain('not-a-key-but-maybe-a-secret');
  });

  it('SIGTERM: finishes the request in flight, then closes and exits 0', async () => {
    const env = testEnvironment({ LOG_LEVEL: 'warn' }, 'sigterm');
    await resetState(env, 'sigterm');
    const port = await freePort();
    const run = spawnEntry('src/main.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok);
      // A login whose body is still arriving when the signal comes.
      const body = JSON.stringify({ username: 'admin', password: env.PROXIMITY_ADMIN_PASSWORD });
      const answer = new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/auth/login',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          run.child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 100);
      });
      expect(await answer).toBe(200);
      expect(await run.exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
